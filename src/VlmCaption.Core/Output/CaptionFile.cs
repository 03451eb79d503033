using System;
using System.IO;
using System.Text;

namespace VlmCaption.Output
{
    /// <summary>Caption files beside their images, written so that a crash never leaves a partial or empty one.</summary>
    public static class CaptionFile
    {
        private static readonly UTF8Encoding Utf8NoBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

        // ".vlmcaption-<16 hex digits>.tmp": unmistakably ours, and short whatever the image's name (a name of
        // 250 bytes plus a suffix would pass the file system's 255-byte limit). Only a killed write leaves one.
        private const string TemporaryPrefix = ".vlmcaption-";
        private static readonly System.Text.RegularExpressions.Regex Leftover =
            new System.Text.RegularExpressions.Regex(@"^\.vlmcaption-[0-9a-f]{16}\.tmp$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        /// <summary>How old a temporary file must be before clean-up takes it for a killed write's: another run may be writing it.</summary>
        public static readonly TimeSpan LeftoverAge = TimeSpan.FromMinutes(10);

        /// <summary>True for one of our temporary files old enough that no write can still be using it.</summary>
        public static bool IsLeftover(string path)
        {
            if (!Leftover.IsMatch(System.IO.Path.GetFileName(path)))
            {
                return false;
            }

            try
            {
                return DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > LeftoverAge;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return false;
            }
        }

        /// <summary>The image path without its extension, plus <paramref name="extension"/> (e.g. ".txt").</summary>
        public static string PathFor(string imagePath, string extension)
        {
            if (string.IsNullOrEmpty(extension) || extension[0] != '.' || extension.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0)
            {
                throw new ArgumentException($"The caption extension '{extension}' must start with a dot, e.g. .txt.");
            }

            return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(imagePath) ?? "", System.IO.Path.GetFileNameWithoutExtension(imagePath) + extension);
        }

        // Every line break a reader of caption files splits at: Python's text mode (\n, \r, \r\n) and str.splitlines
        // (\v, \f, U+0085, U+2028, U+2029), with the spaces around it.
        private static readonly System.Text.RegularExpressions.Regex LineBreaks =
            new System.Text.RegularExpressions.Regex(@"[ \t]*[\r\n\v\f\u0085\u2028\u2029]+\s*", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        /// <summary>
        /// The text of an image's caption file: one caption a line, so a file's lines are exactly its captions for
        /// every trainer (sd-scripts keeps the first line, OneTrainer and SimpleTuner draw one line a step, ai-toolkit
        /// and diffusion-pipe read the file whole). A line break inside a caption becomes a space, unless
        /// <paramref name="keepLineBreaks"/> keeps the one caption of an image as the model wrote it.
        /// </summary>
        public static string JoinLines(System.Collections.Generic.IReadOnlyList<string> captions, bool keepLineBreaks = false)
        {
            if (captions.Count == 1 && keepLineBreaks)
            {
                return captions[0];
            }

            var text = new StringBuilder();
            foreach (string caption in captions)
            {
                text.Append(text.Length > 0 ? "\n" : "").Append(OneLine(caption));
            }

            return text.ToString();
        }

        /// <summary>The caption on one line: each line break, with the spaces around it, becomes one space.</summary>
        public static string OneLine(string caption) => LineBreaks.Replace(caption.Trim(), " ");

        /// <summary>The largest caption file read back: captions are a few hundred words.</summary>
        public const long MaxReadBytes = 1024 * 1024;

        /// <summary>
        /// The caption in a caption file, without a trailing line break (editors add one); null when there is none.
        /// Throws <see cref="CaptionException"/> (CaptionUnreadable) for a file that is not a regular file under the limit.
        /// </summary>
        public static string? Read(string captionPath) => Read(captionPath, out _);

        /// <summary>
        /// <see cref="Read(string)"/>, saying whether the file is not valid UTF-8: then its text has U+FFFD where
        /// bytes could not be read, and the file must not be written back unless the caption was changed. A file
        /// with a UTF-16 byte order mark is read as UTF-16 (Windows tools write those).
        /// </summary>
        public static string? Read(string captionPath, out bool notUtf8)
        {
            notUtf8 = false;
            // A caption file that links out of its folder is not followed: its target's text would become a
            // caption, and go on into review pages and dataset files.
            switch (RegularFile.Check(captionPath, MaxReadBytes, stayInFolder: true))
            {
                case RegularFile.Kind.Missing:
                    return null;
                case RegularFile.Kind.LinkLeavesFolder:
                    throw new CaptionException("CaptionUnreadable", CaptionErrorCategory.InvalidData, $"'{captionPath}' is a link to a file outside its folder, so it was not read.");
                case RegularFile.Kind.EmptyOrSpecial:
                    throw new CaptionException("CaptionUnreadable", CaptionErrorCategory.InvalidData, $"'{captionPath}' is empty, or not a regular file, so it was not read.");
                case RegularFile.Kind.TooLarge:
                    throw new CaptionException("CaptionUnreadable", CaptionErrorCategory.LimitsExceeded, $"'{captionPath}' is larger than {MaxReadBytes / 1048576} MiB, more than a caption; it was not read.");
            }

            try
            {
                byte[] bytes = RegularFile.ReadAllBytes(captionPath, MaxReadBytes);
                return Decode(bytes, out notUtf8).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CaptionException("CaptionUnreadable", CaptionErrorCategory.ReadError, $"Cannot read '{captionPath}': {e.Message}", e);
            }
        }

        private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

        /// <summary>A caption file's text: UTF-8 (with or without its BOM), or UTF-16 after its BOM; bytes that are none of these become U+FFFD.</summary>
        private static string Decode(byte[] bytes, out bool notUtf8)
        {
            notUtf8 = false;
            if (bytes.Length >= 2 && bytes[0] == 0xFF && bytes[1] == 0xFE)
            {
                return Encoding.Unicode.GetString(bytes, 2, bytes.Length - 2);
            }

            if (bytes.Length >= 2 && bytes[0] == 0xFE && bytes[1] == 0xFF)
            {
                return Encoding.BigEndianUnicode.GetString(bytes, 2, bytes.Length - 2);
            }

            int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
            try
            {
                return StrictUtf8.GetString(bytes, start, bytes.Length - start);
            }
            catch (DecoderFallbackException)
            {
                notUtf8 = true;
                return Utf8NoBom.GetString(bytes, start, bytes.Length - start);
            }
        }

        /// <summary>True when the image has a caption where the configuration writes it (beside it or in output_directory): a non-empty caption file, or for jsonl a line by this model for these prompts.</summary>
        public static bool ExistsFor(CaptionConfig config, CaptionPlacement placement, string imagePath, string model)
        {
            if (config.OutputFormat == "jsonl")
            {
                return model.Length > 0 && JsonlCaptionFile.HasCaption(placement.Mirror(imagePath), model, JsonlCaptionFile.PromptField(config.Prompts));
            }

            var caption = new FileInfo(placement.CaptionPath(imagePath, config.CaptionExtension));
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

            string temporary = TemporaryPathIn(System.IO.Path.GetDirectoryName(path) ?? ".");
            try
            {
                byte[] bytes = Utf8NoBom.GetBytes(text);
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    stream.Write(bytes, 0, bytes.Length);
                    stream.Flush(flushToDisk: true);
                }

                Commit(temporary, path, overwrite: true);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                TryDelete(temporary);
                throw new CaptionException("CaptionWriteFailed", CaptionErrorCategory.WriteError, $"Cannot write '{path}': {e.Message}", e);
            }
        }

        /// <summary>A new temporary file name in <paramref name="folder"/>, marked as ours for clean-up.</summary>
        public static string TemporaryPathIn(string folder) =>
            System.IO.Path.Combine(folder, TemporaryPrefix + Guid.NewGuid().ToString("N").Substring(0, 16) + ".tmp");

        /// <summary>
        /// Renames a finished temporary file over <paramref name="path"/> (replacing it when <paramref name="overwrite"/>),
        /// so readers see the old file or the whole new one; throws <see cref="IOException"/> when it cannot.
        /// </summary>
        public static void Commit(string temporary, string path, bool overwrite)
        {
            if (File.Exists(path))
            {
                if (!overwrite)
                {
                    throw new IOException($"'{path}' already exists.");
                }

                File.Replace(temporary, path, destinationBackupFileName: null, ignoreMetadataErrors: true);
            }
            else
            {
                File.Move(temporary, path);
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
                // Best effort: the temporary name is marked as ours, and a later clean-up removes it.
            }
        }
    }
}
