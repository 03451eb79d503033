using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace VlmCaption.Images
{
    /// <summary>
    /// The file extensions captioned, in any case: the original tool's list of images plus .tif and the other
    /// formats ImageSharp reads, and the video clips (<see cref="Video.ClipExtensions"/>), captioned from their frames.
    /// A clip is an image to the walk, the same-stem rule and the caption file's name (clip.mp4, clip.txt).
    /// </summary>
    public static class ImageExtensions
    {
        /// <summary>Extensions with their dot, lower case.</summary>
        public static readonly IReadOnlyCollection<string> All = new[] { ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tiff", ".tif", ".webp", ".avif", ".jfif", ".tga", ".pbm", ".pgm", ".ppm" }.Concat(Video.ClipExtensions.All).ToArray();

        private static readonly HashSet<string> Set = new HashSet<string>(All, StringComparer.OrdinalIgnoreCase);

        /// <summary>True when the path ends in an image extension.</summary>
        public static bool IsImage(string path) => Set.Contains(Path.GetExtension(path));

        /// <summary>Other images in the same folder with the same name before the extension (a.jpg beside a.png).</summary>
        public static IEnumerable<string> SameStemSiblings(string imagePath)
        {
            string folder = Path.GetDirectoryName(imagePath) ?? ".";
            string stem = Path.GetFileNameWithoutExtension(imagePath);
            return All
                .Select(extension => Path.Combine(folder, stem + extension))
                .Where(candidate => !string.Equals(candidate, imagePath, StringComparison.OrdinalIgnoreCase) && File.Exists(candidate))
                .Distinct(StringComparer.Ordinal);
        }
    }
}
