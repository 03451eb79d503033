using System;

namespace VlmCaption
{
    /// <summary>
    /// A rule of caption.yaml's retry_rules: when the caption contains one of the phrases, one more request is
    /// sent with the rejection note, "[phrases]" replaced by the phrases found.
    /// </summary>
    public sealed class RetryRule
    {
        /// <summary>A name for messages.</summary>
        public string RuleName { get; set; } = "";

        /// <summary>Phrases that must not appear in a caption (matched ignoring case).</summary>
        public string[] Phrases { get; set; } = Array.Empty<string>();

        /// <summary>The user message sent when a phrase is found; "[phrases]" is replaced by those found.</summary>
        public string RejectionNote { get; set; } = "";

        /// <inheritdoc />
        public override string ToString() => RuleName;
    }
}
