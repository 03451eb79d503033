namespace VlmCaption.PowerShell
{
    /// <summary>
    /// A cmdlet that takes captions one record at a time, by property name: results of Get-VlmCaption and
    /// Invoke-VlmCaptionRun -PassThru, Import-VlmCaption objects, and rows of Import-Csv (Save-VlmCaption,
    /// Export-VlmDataset). Anything with the image's path and a Caption binds.
    /// </summary>
    public abstract class CaptionRecordCommandBase : PSCmdlet
    {
        /// <summary>The image, bound from PSPath, Path or FullName, taken exactly as written.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "Path", "FullName")]
        [ValidateNotNullOrEmpty]
        public string LiteralPath { get; set; } = "";

        /// <summary>The caption text.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        public string Caption { get; set; } = "";

        /// <summary>A structured caption's object (a result's Data, edited or not): Save-VlmCaption keeps it beside the caption as photo.caption.json (or in the jsonl line); Export-VlmDataset takes its tags.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        public object? Data { get; set; }

        /// <summary>A structured caption's object as JSON (a result's DataJson, a CSV column); Data wins when both are given.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        [AllowEmptyString]
        public string? DataJson { get; set; }

        /// <summary>Succeeded or Truncated: a truncated caption is written only when asked for.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? Status { get; set; }
    }
}
