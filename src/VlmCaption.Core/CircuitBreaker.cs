using System.Collections.Generic;
using System.Linq;

namespace VlmCaption
{
    /// <summary>
    /// Stops a run after a number of images in a row failed for reasons that are not about the image (server down,
    /// key refused, overloaded): going on would only turn every remaining image into the same error. Failures that
    /// will be the same for every image (a model without vision, a refused request field) stop it after a few, and
    /// a refused key or an unknown URL or model after one.
    /// </summary>
    public sealed class CircuitBreaker
    {
        /// <summary>Images in a row failing the same way for every image that stop the run.</summary>
        private const int SameFailuresToStop = 3;

        private readonly int limit;
        private readonly List<CaptionException> streak = new List<CaptionException>();

        /// <summary>Trips after <paramref name="limit"/> endpoint failures in a row; 0 never trips.</summary>
        public CircuitBreaker(int limit) => this.limit = limit;

        /// <summary>Notes a captioned image: the streak is broken.</summary>
        public void Succeeded() => streak.Clear();

        /// <summary>Notes a failed image; returns the error that stops the run when the streak is long enough, else null.</summary>
        public CaptionException? Failed(CaptionException error)
        {
            if (!error.IsEndpointFailure && !error.SameForEveryImage)
            {
                // A bad image says nothing about the server, and does not break the streak either.
                return null;
            }

            streak.Add(error);
            if (limit == 0)
            {
                return null;
            }

            // A chat 401, 403 or 404 on every endpoint (key, URL or model) will be the same for every image.
            bool certain = error.SameForEveryImage && error.StatusCode is 401 or 403 or 404;
            bool repeated = streak.Count >= SameFailuresToStop
                && streak.Skip(streak.Count - SameFailuresToStop).All(e => e.SameForEveryImage && e.ErrorId == error.ErrorId);
            if (certain || repeated)
            {
                return new CaptionException(
                    "TooManyEndpointFailures",
                    error.Category,
                    $"Stopped after {(certain ? "an image" : $"{SameFailuresToStop} images in a row")} failed in a way that will be the same for every image: {error.Message} Captions already written are kept; fix this and run again.");
            }

            if (streak.Count < limit)
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
