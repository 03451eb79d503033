using System;
using System.Collections.Generic;
using System.Linq;

namespace VlmCaption.Config
{
    /// <summary>The keys caption.yaml may hold, and the nearest one to a misspelling.</summary>
    internal static class ConfigKeys
    {
        public static readonly IReadOnlyList<string> All = ConfigOptions.All.Select(option => option.Key).ToArray();

        /// <summary>The known key closest to <paramref name="key"/> by edit distance, if it is close enough to be a typo.</summary>
        public static string? Nearest(string key)
        {
            string? best = null;
            int bestDistance = int.MaxValue;
            foreach (string known in All)
            {
                int distance = Distance(key.ToLowerInvariant(), known);
                if (distance < bestDistance)
                {
                    best = known;
                    bestDistance = distance;
                }
            }

            return bestDistance <= Math.Max(2, key.Length / 3) ? best : null;
        }

        private static int Distance(string a, string b)
        {
            var previous = Enumerable.Range(0, b.Length + 1).ToArray();
            var current = new int[b.Length + 1];
            for (int i = 1; i <= a.Length; i++)
            {
                current[0] = i;
                for (int j = 1; j <= b.Length; j++)
                {
                    int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                    current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), substitution);
                }

                (previous, current) = (current, previous);
            }

            return previous[b.Length];
        }
    }
}
