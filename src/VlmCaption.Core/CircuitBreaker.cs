using System.Collections.Generic;
using System.Linq;

namespace VlmCaption
{
    /// <summary>
    /// Stops a run after a number of images in a row failed for reasons that are not about the image (server down,
    /// key refused, overloaded): going on would only turn every remaining image into the same error.
    /// </summary>
    public sealed class CircuitBreaker
    {
        private readonly int limit;
        private readonly List<CaptionException> streak = new List<CaptionException>();

        /// <summary>Trips after <paramref name="limit"/> endpoint failures in a row; 0 never trips.</summary>
        public CircuitBreaker(int limit) => this.limit = limit;

        /// <summary>Notes a captioned image: the streak is broken.</summary>
        public void Succeeded() => streak.Clear();

        /// <summary>Notes a failed image; returns the error that stops the run when the streak is long enough, else null.</summary>
        public CaptionException? Failed(CaptionException error)
        {
            if (!error.IsEndpointFailure)
            {
                // A bad image says nothing about the server, and does not break the streak either.
                return null;
            }

            streak.Add(error);

            // A chat 404 on every endpoint (wrong URL or a model the server does not have) will be the same for every image.
            if (limit == 0 || (streak.Count < limit && error.StatusCode != 404))
            {
                return null;
            }

            string kinds = string.Join("; ", streak.GroupBy(e => e.Message).Select(g => g.Count() == 1 ? g.Key : $"{g.Count()} x {g.Key}"));
            return new CaptionException(
                "TooManyEndpointFailures",
                streak[streak.Count - 1].Category,
                $"Stopped after {streak.Count} images in a row failed for reasons that are not about the images: {kinds} Captions already written are kept; fix the server and run again.");
        }
    }
}
