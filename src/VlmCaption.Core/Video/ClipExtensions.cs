using System;
using System.Collections.Generic;
using System.IO;

namespace VlmCaption.Video
{
    /// <summary>The containers taken as video clips, in any case: captioned from frames ffmpeg takes out of them.</summary>
    public static class ClipExtensions
    {
        /// <summary>Extensions with their dot, lower case.</summary>
        public static readonly IReadOnlyCollection<string> All = new[] { ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi" };

        private static readonly HashSet<string> Set = new HashSet<string>(All, StringComparer.OrdinalIgnoreCase);

        /// <summary>True when the path ends in a clip's extension.</summary>
        public static bool IsClip(string path) => Set.Contains(Path.GetExtension(path));
    }
}
