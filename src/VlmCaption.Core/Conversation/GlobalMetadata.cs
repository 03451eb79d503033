using System;
using System.IO;
using System.Text;

namespace VlmCaption.Conversation
{
    /// <summary>The global metadata file (e.g. a character codex) placed before the system prompt.</summary>
    public static class GlobalMetadata
    {
        /// <summary>The largest global metadata file read: a codex is text, and /dev/zero or a 1 GB file must not be read whole.</summary>
        public const long MaxBytes = 16 * 1024 * 1024;

        /// <summary>What is wrong with the file as a global metadata file, or null when it can be read.</summary>
        public static string? Problem(string path) => RegularFile.Check(path, MaxBytes) switch
        {
            RegularFile.Kind.Missing => "does not exist",
            RegularFile.Kind.EmptyOrSpecial => "is empty, or not a regular file (a FIFO or a device such as /dev/zero)",
            RegularFile.Kind.TooLarge => $"is larger than {MaxBytes / 1048576} MiB, more than a codex should be",
            _ => null,
        };

        /// <summary>Reads the whole file as UTF-8 (a BOM is dropped), whatever the platform's default encoding; at most <see cref="MaxBytes"/>.</summary>
        public static string Read(string path)
        {
            if (Problem(path) is string problem)
            {
                throw new CaptionException("GlobalMetadataUnreadable", CaptionErrorCategory.ReadError, $"The global metadata file '{path}' {problem}.");
            }

            try
            {
                byte[] bytes = RegularFile.ReadAllBytes(path, MaxBytes);
                int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
                return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetString(bytes, start, bytes.Length - start);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
            {
                throw new CaptionException("GlobalMetadataUnreadable", CaptionErrorCategory.ReadError, $"Cannot read the global metadata file '{path}': {e.Message}", e);
            }
        }
    }
}
