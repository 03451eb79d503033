using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace VlmCaption.Batch
{
    /// <summary>images.jsonl, the list of a batch run's images with their hints and prepared sizes, read back.</summary>
    internal static class BatchImageList
    {
        /// <summary>
        /// The images the folder lists. The list is untrusted input like the rest of the folder: each must be a whole
        /// path under base_directory (a caption is written beside it), numbered once, and the file and its lines
        /// within bounds; anything else stops the run before it writes.
        /// </summary>
        public static List<BatchImage> Read(string path, string baseDirectory)
        {
            if (RegularFile.Check(path, long.MaxValue) != RegularFile.Kind.Readable)
            {
                throw BatchFolder.Invalid(path, "is missing, empty or not a regular file");
            }

            var images = new List<BatchImage>();
            var numbers = new HashSet<int>();
            string root = baseDirectory.Length == 0 ? "" : Path.GetFullPath(baseDirectory).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            int number = 0;
            while (BatchOutput.ReadLine(stream, MaxImageLineBytes, out byte[]? bytes, out bool tooLong))
            {
                number++;
                if (bytes!.Length == 0 && !tooLong)
                {
                    continue;
                }

                BatchImage image;
                try
                {
                    image = tooLong ? throw new FormatException("too long") : BatchImage.FromLine(System.Text.Encoding.UTF8.GetString(bytes));
                }
                catch (Exception e) when (e is JsonException || e is FormatException || e is InvalidOperationException || e is KeyNotFoundException)
                {
                    throw BatchFolder.Invalid(path, $"line {number} is not an image this module listed");
                }

                if (root.Length > 0 && !InsideRoot(image.Path, root))
                {
                    throw BatchFolder.Invalid(path, $"line {number} lists '{image.Path}', which is not under base_directory '{baseDirectory}'; a caption is written beside each listed image");
                }

                if (image.Number != images.Count + 1 || !numbers.Add(image.Number))
                {
                    throw BatchFolder.Invalid(path, $"line {number} is image {image.Number}, not image {images.Count + 1}");
                }

                images.Add(image);
            }

            return images;
        }

        // An image's line holds its path and hints; hints are bounded where they are read, well below this.
        private const int MaxImageLineBytes = 16 << 20;

        private static bool InsideRoot(string path, string root) =>
            Path.IsPathRooted(path) && string.Equals(Path.GetFullPath(path), path, StringComparison.Ordinal)
            && path.StartsWith(root, Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }
}
