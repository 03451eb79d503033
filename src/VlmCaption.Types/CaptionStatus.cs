namespace VlmCaption
{
    /// <summary>
    /// The values of <see cref="CaptionResult.Status"/>. The status is text, not an enum, so that ConvertTo-Json,
    /// Export-Csv and Import-Csv all carry it by name; [VlmCaption.CaptionStatus]::Truncated still names it in scripts.
    /// </summary>
    public static class CaptionStatus
    {
        /// <summary>The model finished its final answer.</summary>
        public const string Succeeded = "Succeeded";

        /// <summary>The final answer was cut off by the answer limit (finish_reason "length"); it is not written without -Force.</summary>
        public const string Truncated = "Truncated";

        /// <summary>The final answer opened as a refusal ("I'm sorry, I can't help with that"); it is never saved without -Force.</summary>
        public const string Refused = "Refused";

        /// <summary>The image was not captioned (a RunSummary's Failures, on the review page).</summary>
        public const string Failed = "Failed";
    }
}
