using System.Management.Automation.Language;
using VlmCaption.Hints;

namespace VlmCaption.PowerShell
{
    /// <summary>Completes -HintSource with the built-in names.</summary>
    public sealed class HintSourceNameCompleter : IArgumentCompleter
    {
        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
            BuiltInHints.Descriptions
                .Where(pair => pair.Key.StartsWith(wordToComplete ?? "", System.StringComparison.OrdinalIgnoreCase))
                .Select(pair => new CompletionResult(pair.Key, pair.Key, CompletionResultType.ParameterValue, pair.Value));
    }
}
