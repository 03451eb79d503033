namespace VlmCaption
{
    /// <summary>How a caption came out.</summary>
    public enum CaptionStatus
    {
        /// <summary>The model finished its final answer.</summary>
        Succeeded,

        /// <summary>The final answer was cut off by the answer limit (finish_reason "length").</summary>
        Truncated,
    }
}
