using System;
using System.IO;
using VlmCaption.Images;

namespace VlmCaption.Output
{
    /// <summary>Checks the extension of caption files, so that a caption can never be written over an image or a sidecar.</summary>
    public static class CaptionExtension
    {
        /// <summary>The default extension.</summary>
        public const string Default = ".txt";

        /// <summary>
        /// The extension with its dot ("txt" becomes ".txt"); throws <see cref="ArgumentException"/> for one that is
        /// empty, holds a path separator, or belongs to an image or to the json hint's sidecar.
        /// </summary>
        public static string Normalize(string? value)
        {
            string extension = (value ?? "").Trim();
            if (extension.Length > 0 && extension[0] != '.')
            {
                extension = "." + extension;
            }

            if (extension.Length < 2 || extension.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || extension.IndexOf('/') >= 0 || extension.IndexOf('\\') >= 0)
            {
                throw new ArgumentException($"The caption extension '{value}' is not a file extension; use one such as .txt or .caption.");
            }

            if (ImageExtensions.IsImage("x" + extension) || extension.Equals(".json", StringComparison.OrdinalIgnoreCase) || extension.Equals(".jsonl", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"The caption extension '{extension}' belongs to images or their sidecars, so captions would overwrite them; use one such as .txt or .caption.");
            }

            return extension;
        }
    }
}
