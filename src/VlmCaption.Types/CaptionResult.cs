using System;
using System.Collections.Generic;

namespace VlmCaption
{
    /// <summary>The caption of one image and how it was obtained. Holds no key and no image data.</summary>
    public sealed class CaptionResult
    {
        /// <summary>Full path of the image.</summary>
        public string Path { get; set; } = "";

        /// <summary>The final answer of the conversation.</summary>
        public string Caption { get; set; } = "";

        /// <summary>Succeeded, or Truncated when the final answer hit the answer limit.</summary>
        public CaptionStatus Status { get; set; }

        /// <summary>Model name sent with the requests.</summary>
        public string Model { get; set; } = "";

        /// <summary>The endpoint that served the image.</summary>
        public string BaseUrl { get; set; } = "";

        /// <summary>Every turn of the conversation, in order.</summary>
        public IReadOnlyList<CaptionTurn> Turns { get; set; } = Array.Empty<CaptionTurn>();

        /// <summary>Sum of the prompt tokens the server reported, or null when it reported none.</summary>
        public int? PromptTokens { get; set; }

        /// <summary>Sum of the completion tokens the server reported, or null when it reported none.</summary>
        public int? CompletionTokens { get; set; }

        /// <summary>Wall time for the whole image: preparation and every turn.</summary>
        public TimeSpan Duration { get; set; }

        /// <summary>Width in pixels of the image as sent (0 when sent untouched and not identified).</summary>
        public int SentWidth { get; set; }

        /// <summary>Height in pixels of the image as sent.</summary>
        public int SentHeight { get; set; }

        /// <summary>Size in bytes of the encoded image as sent (before base64).</summary>
        public long SentBytes { get; set; }

        /// <summary>Media type of the image as sent, e.g. image/jpeg.</summary>
        public string SentMediaType { get; set; } = "";

        /// <inheritdoc />
        public override string ToString() => Caption;
    }
}
