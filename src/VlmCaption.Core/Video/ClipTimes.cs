using System;
using System.Collections.Generic;

namespace VlmCaption.Video
{
    /// <summary>The seconds at which a clip's (or an animation's) frames are taken.</summary>
    internal static class ClipTimes
    {
        /// <summary>
        /// The middle of each of <paramref name="frames"/> equal parts of the clip: never the first black frame of a
        /// fade-in, never past the end. With <paramref name="everySec"/> above 0, the middle of every that many
        /// seconds instead, as long as that is at most <paramref name="frames"/> frames (a longer clip would send
        /// without bound, so it gets <paramref name="frames"/> spread evenly); a clip shorter than one part gets its middle.
        /// </summary>
        public static IReadOnlyList<double> For(double seconds, int frames, double everySec)
        {
            int count = Math.Max(1, frames);
            if (everySec > 0 && seconds / everySec < count + 0.5)
            {
                var every = new List<double>();
                for (double at = everySec / 2; at < seconds && every.Count < count; at += everySec)
                {
                    every.Add(Math.Round(at, 3));
                }

                return every.Count > 0 ? every : new[] { Math.Round(seconds / 2, 3) };
            }

            var times = new double[count];
            for (int i = 0; i < count; i++)
            {
                times[i] = Math.Round(seconds * (i + 0.5) / count, 3);
            }

            return times;
        }
    }
}
