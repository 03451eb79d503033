using System;
using System.Text;

namespace VlmCaption.Images
{
    /// <summary>Names an image format from its first bytes, never from the file extension.</summary>
    internal static class MediaTypeSniffer
    {
        /// <summary>Bytes needed to recognise every format below.</summary>
        public const int HeaderLength = 16;

        /// <summary>The media type, or null when the bytes match no known image format.</summary>
        public static string? Sniff(ReadOnlySpan<byte> header)
        {
            if (StartsWith(header, 0xFF, 0xD8, 0xFF))
            {
                return "image/jpeg";
            }

            if (StartsWith(header, 0x89, (byte)'P', (byte)'N', (byte)'G'))
            {
                return "image/png";
            }

            if (Ascii(header, 0, "GIF8"))
            {
                return "image/gif";
            }

            if (Ascii(header, 0, "RIFF") && Ascii(header, 8, "WEBP"))
            {
                return "image/webp";
            }

            if (StartsWith(header, (byte)'I', (byte)'I', 42, 0) || StartsWith(header, (byte)'M', (byte)'M', 0, 42))
            {
                return "image/tiff";
            }

            if (Ascii(header, 0, "BM"))
            {
                return "image/bmp";
            }

            if (Ascii(header, 4, "ftyp"))
            {
                if (Ascii(header, 8, "avif") || Ascii(header, 8, "avis"))
                {
                    return "image/avif";
                }

                if (Ascii(header, 8, "heic") || Ascii(header, 8, "heix") || Ascii(header, 8, "mif1"))
                {
                    return "image/heic";
                }
            }

            return null;
        }

        private static bool StartsWith(ReadOnlySpan<byte> data, params byte[] prefix) =>
            data.Length >= prefix.Length && data.Slice(0, prefix.Length).SequenceEqual(prefix);

        private static bool Ascii(ReadOnlySpan<byte> data, int offset, string text) =>
            data.Length >= offset + text.Length && data.Slice(offset, text.Length).SequenceEqual(Encoding.ASCII.GetBytes(text));
    }
}
