using System.Collections.Concurrent;
using System.Management.Automation.Language;
using System.Threading;

namespace VlmCaption.PowerShell
{
    /// <summary>
    /// Completes -Model with the models the endpoint on the same command line lists, or the caption.yaml it names
    /// (-ConfigPath, -LiteralPath or ./caption.yaml for Invoke-VlmCaptionRun, -Config for the others), or the default one. Asks
    /// with a short timeout, remembers each endpoint's answer for a minute, and stays silent on any failure.
    /// </summary>
    public sealed class ModelNameCompleter : IArgumentCompleter
    {
        private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1.5);
        // Each endpoint's list, kept for a minute: Tab after Tab asks once, and a server restarted with other models
        // (or another server on the same port) is asked again.
        private static readonly TimeSpan Keep = TimeSpan.FromMinutes(1);
        private static readonly ConcurrentDictionary<string, (string[] Ids, DateTime At)> Cache = new ConcurrentDictionary<string, (string[], DateTime)>(StringComparer.OrdinalIgnoreCase);

        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            // What the command would use: the typed value, then $PSDefaultParameterValues, then the environment.
            IDictionary defaults = DefaultParameterValues();
            CaptionConfig? config = ConfigOf(commandName, fakeBoundParameters);
            string baseUrl = FirstString(fakeBoundParameters["BaseUrl"]) ?? FromDefaults(defaults, commandName, "BaseUrl")
                ?? (config is { BaseUrl.Length: > 0 } ? config.BaseUrl[0] : null) ?? SessionDefaults.BaseUrls()[0];
            string apiKey = FirstString(fakeBoundParameters["ApiKey"]) ?? FromDefaults(defaults, commandName, "ApiKey")
                ?? (config?.ApiKey is { Length: > 0 } key ? ApiKeyTransformationAttribute.Reveal(key) : null)
                ?? Environment.GetEnvironmentVariable(SessionDefaults.ApiKeyVariable) ?? "";
            string typed = (wordToComplete ?? "").Trim('\'', '"');
            return Models(baseUrl, apiKey)
                .Where(id => id.StartsWith(typed, StringComparison.OrdinalIgnoreCase))
                .Select(id => new CompletionResult(Quote(id), id, CompletionResultType.ParameterValue, $"{id} at {baseUrl}"));
        }

        /// <summary>The caption.yaml the command line names, read as the command would read it; null when none can be read.</summary>
        private static CaptionConfig? ConfigOf(string commandName, IDictionary bound)
        {
            bool run = string.Equals(commandName, "Invoke-VlmCaptionRun", StringComparison.OrdinalIgnoreCase);
            object? named = run ? bound["LiteralPath"] ?? bound["ConfigPath"] ?? bound["Config"] ?? "caption.yaml" : bound["Config"];
            if ((named is PSObject wrapped ? wrapped.BaseObject : named) is CaptionConfig given)
            {
                return given;
            }

            if (FirstString(named) is not string path)
            {
                return null;
            }

            try
            {
                string full = System.IO.Path.Combine(CurrentLocation(), path);
                return System.IO.File.Exists(full) ? CaptionConfigReader.Read(full, out _) : null;
            }
            catch (Exception)
            {
                // A caption.yaml with an error completes nothing here; the command itself will say what is wrong.
                return null;
            }
        }

        private static string CurrentLocation()
        {
            try
            {
                return ScriptBlock.Create("$PWD.ProviderPath").Invoke().FirstOrDefault()?.BaseObject as string ?? Environment.CurrentDirectory;
            }
            catch (RuntimeException)
            {
                return Environment.CurrentDirectory;
            }
        }

        private static string[] Models(string baseUrl, string apiKey)
        {
            if (Cache.TryGetValue(baseUrl, out (string[] Ids, DateTime At) known) && DateTime.UtcNow - known.At < Keep)
            {
                return known.Ids;
            }

            try
            {
                using var cancel = new CancellationTokenSource(Timeout);
                string[] ids = ModelLister.ListAsync(baseUrl, apiKey, Timeout, cancel.Token).GetAwaiter().GetResult().Select(m => m.Id).ToArray();
                Cache[baseUrl] = (ids, DateTime.UtcNow);
                return ids;
            }
            catch (Exception)
            {
                // Completion must never print errors: an unreachable or refusing endpoint completes nothing (and is asked again next time).
                return Array.Empty<string>();
            }
        }

        private static IDictionary DefaultParameterValues()
        {
            try
            {
                return ScriptBlock.Create("$PSDefaultParameterValues").Invoke().FirstOrDefault()?.BaseObject as IDictionary ?? new Hashtable();
            }
            catch (RuntimeException)
            {
                return new Hashtable();
            }
        }

        /// <summary>A plain value of $PSDefaultParameterValues for the command's parameter ("Get-VlmCaption:BaseUrl", "*:BaseUrl", "*-Vlm*:BaseUrl").</summary>
        private static string? FromDefaults(IDictionary defaults, string commandName, string parameterName)
        {
            foreach (DictionaryEntry entry in defaults)
            {
                string[] key = (entry.Key?.ToString() ?? "").Split(':');
                if (key.Length == 2
                    && new WildcardPattern(key[0].Trim(), WildcardOptions.IgnoreCase).IsMatch(commandName)
                    && string.Equals(key[1].Trim(), parameterName, StringComparison.OrdinalIgnoreCase)
                    && FirstString(entry.Value is PSObject wrapped ? wrapped.BaseObject : entry.Value) is string value)
                {
                    return value;
                }
            }

            return null;
        }

        private static string? FirstString(object? value) => value switch
        {
            string text => text,
            IEnumerable list => list.OfType<object>().Select(o => o.ToString()).FirstOrDefault(),
            _ => null,
        };

        private static string Quote(string id) =>
            id.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', '(', ')', '{', '}', ';', ',', '@', '#', '&', '|' }) >= 0 ? "'" + id.Replace("'", "''") + "'" : id;
    }
}
