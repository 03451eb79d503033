using System;
using System.IO;
using System.Text;

namespace VlmCaption.Output
{
    /// <summary>Caption files beside their images, written so that a crash never leaves a partial or empty one.</summary>
    public static class CaptionFile
    {
        private static readonly UTF8Encoding Utf8NoBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

        // ".<caption file name>.<8 hex digits>.tmp": what WriteAtomic leaves only when the process dies mid-write.
        private static readonly System.Text.RegularExpressions.Regex Leftover =
            new System.Text.RegularExpressions.Regex(@"^\..+\.[0-9a-f]{8}\.tmp$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        /// <summary>True for the name of a temporary file that a killed write left behind.</summary>
        public static bool IsLeftover(string fileName) => Leftover.IsMatch(fileName);

        /// <summary>The image path without its extension, plus <paramref name="extension"/> (e.g. ".txt").</summary>
        public static string PathFor(string imagePath, string extension)
        {
            if (string.IsNullOrEmpty(extension) || extension[0] != '.' || extension.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0)
            {
                throw new ArgumentException($"The caption extension '{extension}' must start with a dot, e.g. .txt.");
            }

            return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(imagePath) ?? "", System.IO.Path.GetFileNameWithoutExtension(imagePath) + extension);
        }

        /// <summary>True when the image has a caption where the configuration writes it: a non-empty caption file, or for jsonl a line by this model for these prompts.</summary>
        public static bool ExistsFor(CaptionConfig config, string imagePath, string model)
        {
            if (config.OutputFormat == "jsonl")
            {
                return model.Length > 0 && JsonlCaptionFile.HasCaption(imagePath, model, JsonlCaptionFile.PromptField(config.Prompts));
            }

            var caption = new FileInfo(PathFor(imagePath, config.CaptionExtension));
            return caption.Exists && caption.Length > 0;
        }

        /// <summary>
        /// Writes <paramref name="text"/> (UTF-8, no BOM, no trailing newline) to a temporary file in the same
        /// folder, flushes it to disk, then renames it over <paramref name="path"/>, so readers see the old file
        /// or the whole new one, never a part.
        /// </summary>
        public static void WriteAtomic(string path, string text, bool overwrite)
        {
            if (text.Length == 0)
            {
                throw new CaptionException("EmptyCaption", CaptionErrorCategory.InvalidData, $"Refusing to write an empty caption to '{path}'.");
            }

            if (!overwrite && File.Exists(path))
            {
                throw new CaptionException("CaptionExists", CaptionErrorCategory.WriteError, $"'{path}' already exists. Use -Force to overwrite it.");
            }

            string folder = System.IO.Path.GetDirectoryName(path) ?? ".";
            string temporary = System.IO.Path.Combine(folder, "." + System.IO.Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp");
            try
            {
                byte[] bytes = Utf8NoBom.GetBytes(text);
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(flushToDisk: true);
                }

                if (File.Exists(path))
                {
                    File.Replace(temporary, path, destinationBackupFileName: null, ignoreMetadataErrors: true);
                }
                else
                {
                    File.Move(temporary, path);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                TryDelete(temporary);
                throw new CaptionException("CaptionWriteFailed", CaptionErrorCategory.WriteError, $"Cannot write '{path}': {e.Message}", e);
            }
        }

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // Best effort: the temporary name starts with a dot and ends in .tmp, so it is easy to spot.
            }
        }
    }
}
