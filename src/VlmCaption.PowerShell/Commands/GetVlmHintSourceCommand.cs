namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Lists the built-in hint sources.</summary>
    [Cmdlet(VerbsCommon.Get, "VlmHintSource")]
    [OutputType(typeof(HintSource))]
    public sealed class GetVlmHintSourceCommand : PSCmdlet
    {
        /// <summary>Names to list; wildcards allowed.</summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(HintSourceNameCompleter))]
        public string[] Name { get; set; } = { "*" };

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            var patterns = Name.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
            WriteObject(HintSources.AllBuiltIn().Where(s => patterns.Any(p => p.IsMatch(s.Name))), enumerateCollection: true);
        }
    }
}
