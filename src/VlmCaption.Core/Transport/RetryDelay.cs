using System;
using System.Globalization;

namespace VlmCaption.Transport
{
    /// <summary>How long to wait before a retry: the server's Retry-After when given, else exponential backoff with jitter.</summary>
    internal static class RetryDelay
    {
        private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(60);

        [ThreadStatic]
        private static Random? random;

        public static bool IsTransientStatus(int status) => status == 408 || status == 429 || status >= 500;

        /// <param name="attempt">0 for the wait after the first failure.</param>
        /// <param name="baseDelay">The first backoff step.</param>
        /// <param name="retryAfter">The server's advice, when it gave one.</param>
        public static TimeSpan Next(int attempt, TimeSpan baseDelay, TimeSpan? retryAfter)
        {
            if (retryAfter is TimeSpan advised)
            {
                return advised < TimeSpan.Zero ? TimeSpan.Zero : advised > MaxDelay ? MaxDelay : advised;
            }

            double exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 16));
            random ??= new Random(Environment.TickCount ^ Environment.CurrentManagedThreadId);

            // ±25 % jitter keeps many images that failed together from retrying together.
            double jittered = exponential * (0.75 + (random.NextDouble() * 0.5));
            return TimeSpan.FromMilliseconds(Math.Min(jittered, MaxDelay.TotalMilliseconds));
        }

        /// <summary>Reads retry-after-ms (OpenAI) or Retry-After in seconds or as an HTTP date.</summary>
        public static TimeSpan? Parse(string? retryAfterMs, string? retryAfter, DateTimeOffset now)
        {
            // Clamped before conversion: "1e20" or "Infinity" must not overflow TimeSpan; Next caps the wait at MaxDelay.
            if (double.TryParse(retryAfterMs, NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) && ms >= 0)
            {
                return TimeSpan.FromMilliseconds(Math.Min(ms, MaxDelay.TotalMilliseconds));
            }

            if (string.IsNullOrWhiteSpace(retryAfter))
            {
                return null;
            }

            if (double.TryParse(retryAfter, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(Math.Min(seconds, MaxDelay.TotalSeconds));
            }

            if (DateTimeOffset.TryParse(retryAfter, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset when))
            {
                TimeSpan wait = when - now;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }

            return null;
        }
    }
}
