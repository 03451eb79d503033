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

        /// <summary>
        /// True when the failure will come back for every image, whatever it is: a model without vision, a request
        /// field or answer limit the server refuses, a refused key. Such failures are not retried, and a few in a
        /// row stop the run with one error.
        /// </summary>
        public bool SameForEveryImage { get; init; }

        /// <summary>
        /// True when the failure is about the endpoint rather than the image: unreachable, timed out, refused the
        /// key or the model, overloaded or broken (no status, 401, 403, 404, 408, 429, 5xx, a malformed answer).
        /// Such failures move an image to another endpoint and count towards the circuit breaker.
        /// </summary>
        public bool IsEndpointFailure => ErrorId switch
        {
            "ConnectionFailed" or "RequestTimedOut" or "ModelHasNoVision" => true,
            "RequestFailed" => StatusCode is null or 401 or 403 or 404 or 408 or 429 or >= 500,
            _ => false,
        };
    }
}
