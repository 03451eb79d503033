namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Writes a commented caption.yaml with the original tool's defaults.</summary>
    [Cmdlet(VerbsCommon.New, "VlmCaptionConfig", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class NewVlmCaptionConfigCommand : PSCmdlet
    {
        /// <summary>Where to write it.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "caption.yaml";

        /// <summary>Overwrite an existing file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            try
            {
                string target = ConfigLoader.ResolveFile(this, Path);
                if (!ShouldProcess(target, "Write caption.yaml template"))
                {
                    return;
                }

                CaptionFile.WriteAtomic(target, ConfigTemplate.Text, overwrite: Force);
                FileItems.Write(this, target);
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, Path));
            }
        }
    }
}
