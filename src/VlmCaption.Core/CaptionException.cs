using System;

namespace VlmCaption
{
    /// <summary>A failure with a stable identifier, a category and a message that says what to do.</summary>
    public sealed class CaptionException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public CaptionException(string errorId, CaptionErrorCategory category, string message, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Category = category;
        }

        /// <summary>A stable word such as RequestFailed or ImageTooLarge.</summary>
        public string ErrorId { get; }

        /// <summary>The kind of failure.</summary>
        public CaptionErrorCategory Category { get; }

        /// <summary>HTTP status of the failing response, when there was one.</summary>
        public int? StatusCode { get; init; }
    }
}
