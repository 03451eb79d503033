using System.Management.Automation;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Reads a caption.yaml (the original tool's format) into a CaptionConfig.</summary>
    [Cmdlet(VerbsData.Import, "VlmCaptionConfig")]
    [OutputType(typeof(CaptionConfig))]
    public sealed class ImportVlmCaptionConfigCommand : PSCmdlet
    {
        /// <summary>The caption.yaml file.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "caption.yaml";

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            try
            {
                WriteObject(ConfigLoader.Load(this, Path));
            }
            catch (CaptionException e)
            {
                WriteError(ErrorRecords.From(e, Path));
            }
        }
    }
}
