namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Reads a caption.yaml (the original tool's format) into a CaptionConfig.</summary>
    [Cmdlet(VerbsData.Import, "VlmCaptionConfig", DefaultParameterSetName = ParameterSets.Path)]
    [OutputType(typeof(CaptionConfig))]
    public sealed class ImportVlmCaptionConfigCommand : PSCmdlet
    {

        /// <summary>caption.yaml files; wildcards allowed.</summary>
        [Parameter(Position = 0, ParameterSetName = ParameterSets.Path, ValueFromPipeline = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = { "caption.yaml" };

        /// <summary>caption.yaml files taken exactly as written.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ParameterSets.LiteralPath, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP", "FullName")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            bool literal = ParameterSetName == ParameterSets.LiteralPath;
            foreach (string file in PathResolver.ResolveFiles(this, literal ? LiteralPath : Path, literal))
            {
                try
                {
                    WriteObject(ConfigLoader.Load(this, file));
                }
                catch (CaptionException e)
                {
                    WriteError(ErrorRecords.From(e, file));
                }
            }
        }
    }
}
