using System;
using System.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace VlmCaption.Images
{
    /// <summary>What <see cref="ImagePreparer"/> asks of a file or an image that needs no options: its bytes, its alpha, and the words for what cannot be sent.</summary>
    internal static class ImageBytes
    {
        // The formats this build decodes: a file that starts as one of them and still cannot be read is damaged.
        private static readonly string[] Decodable = { "image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff" };

        /// <summary>Why a file could not be decoded, in the words that lead to a fix: damaged, misnamed, or a format this build lacks.</summary>
        public static string WhyNotDecoded(string path, string? sniffed)
        {
            string named = Path.GetExtension(path).TrimStart('.').ToUpperInvariant();
            if (sniffed is null)
            {
                return $"is not an image VlmCaption can read: its first bytes are none of JPEG, PNG, GIF, WebP, BMP or TIFF{(named.Length > 0 ? $", though its name says {named}" : "")}. It is damaged, or not an image despite its name.";
            }

            if (Array.IndexOf(Decodable, sniffed) >= 0)
            {
                return $"starts as {sniffed} but cannot be decoded: the file is damaged (cut short or corrupted). Open it in an image viewer, or replace it.";
            }

            return $"is {sniffed}, which this build cannot decode. Use -MaxImageSize 0 to send the file untouched to a server that reads it.";
        }

        public static byte[] ReadAll(FileStream stream)
        {
            var data = new byte[stream.Length];
            int offset = 0;
            while (offset < data.Length)
            {
                int read = stream.Read(data, offset, data.Length - offset);
                if (read == 0)
                {
                    throw new IOException("the file became shorter while it was read");
                }

                offset += read;
            }

            return data;
        }

        /// <summary>A warning for a format sent untouched that the common servers do not read; null when they all do.</summary>
        public static string? PassThroughNote(string mediaType) => mediaType switch
        {
            "image/jpeg" or "image/png" or "image/gif" => null,

            // llama.cpp decodes with stb_image, which has no WebP; Ollama converts WebP itself (llm/llama_server.go).
            "image/webp" => "WebP is sent untouched (-MaxImageSize 0); llama.cpp's server cannot read it. Let VlmCaption re-encode (-MaxImageSize above 0) if captions come back wrong.",
            _ => $"{mediaType} is sent untouched (-MaxImageSize 0), but Ollama, llama.cpp, OpenAI, Anthropic and Gemini read only JPEG, PNG, WebP and GIF; such a server will refuse it or not see it. Let VlmCaption re-encode (-MaxImageSize above 0).",
        };

        public static bool HasTransparency<TPixel>(Image<TPixel> image)
            where TPixel : unmanaged, IPixel<TPixel>
        {
            if (image is not Image<Rgba32> rgba)
            {
                return false;
            }

            bool found = false;
            rgba.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height && !found; y++)
                {
                    foreach (Rgba32 pixel in rows.GetRowSpan(y))
                    {
                        if (pixel.A != 255)
                        {
                            found = true;
                            break;
                        }
                    }
                }
            });
            return found;
        }
    }
}
