using System;
using System.Collections.Generic;
using System.Buffers.Text;
using System.Text;

namespace VlmCaption.Images
{
    /// <summary>An image encoded once, ready to be written into every request of its conversation.</summary>
    public sealed class PreparedImage
    {
        internal PreparedImage(byte[] data, string mediaType, int width, int height)
        {
            MediaType = mediaType;
            Width = width;
            Height = height;
            ByteCount = data.Length;

            // The quoted JSON string of the data URI, built once and straight into UTF-8: base64 never needs
            // JSON escaping, so each turn copies these bytes instead of encoding the image again.
            string prefix = "\"data:" + mediaType + ";base64,";
            int base64Length = (data.Length + 2) / 3 * 4;
            var json = new byte[prefix.Length + base64Length + 1];
            Encoding.ASCII.GetBytes(prefix, 0, prefix.Length, json, 0);
            Base64.EncodeToUtf8(data, json.AsSpan(prefix.Length, base64Length), out _, out _);
            json[json.Length - 1] = (byte)'"';
            DataUriJson = json;
        }

        /// <summary>An image prepared earlier (a batch run's kept copy), from its quoted data URI JSON.</summary>
        internal PreparedImage(byte[] dataUriJson, string mediaType, int width, int height, long byteCount)
        {
            DataUriJson = dataUriJson;
            MediaType = mediaType;
            Width = width;
            Height = height;
            ByteCount = byteCount;
        }

        /// <summary>Media type of the encoded bytes, e.g. image/png.</summary>
        public string MediaType { get; }

        /// <summary>Width in pixels, 0 when unknown.</summary>
        public int Width { get; }

        /// <summary>Height in pixels, 0 when unknown.</summary>
        public int Height { get; }

        /// <summary>Size of the encoded image before base64.</summary>
        public long ByteCount { get; }

        /// <summary>The data URI as a quoted UTF-8 JSON string.</summary>
        internal byte[] DataUriJson { get; }

        /// <summary>Width of the original image, upright (after its EXIF orientation); 0 when not known.</summary>
        internal int OriginalWidth { get; private set; }

        /// <summary>Height of the original image, upright.</summary>
        internal int OriginalHeight { get; private set; }

        /// <summary>The same image, noting the original's size.</summary>
        internal PreparedImage WithOriginal(int width, int height)
        {
            var copy = (PreparedImage)MemberwiseClone();
            copy.OriginalWidth = width;
            copy.OriginalHeight = height;
            return copy;
        }

        /// <summary>A clip's frames, in order, each with its time; empty for an image.</summary>
        internal IReadOnlyList<Video.ClipFrame> Frames { get; private set; } = Array.Empty<Video.ClipFrame>();

        /// <summary>A clip's length in seconds; null for an image.</summary>
        internal double? ClipSeconds { get; private set; }

        /// <summary>A clip sent as its frames: the size is the first frame's, the bytes all of theirs.</summary>
        internal static PreparedImage Clip(IReadOnlyList<Video.ClipFrame> frames, double seconds, int width, int height, string? note = null)
        {
            PreparedImage first = frames[0].Image;
            long bytes = 0;
            foreach (Video.ClipFrame frame in frames)
            {
                bytes += frame.Image.ByteCount;
            }

            return new PreparedImage(Array.Empty<byte>(), first.MediaType, first.Width, first.Height, bytes) { Frames = frames, ClipSeconds = seconds, Note = note }.WithOriginal(width, height);
        }

        /// <summary>A clip sent as itself (video/mp4), for servers that read video.</summary>
        internal static PreparedImage Video(byte[] data, double seconds, int width, int height, int originalWidth, int originalHeight) =>
            new PreparedImage(data, "video/mp4", width, height) { ClipSeconds = seconds }.WithOriginal(originalWidth, originalHeight);

        /// <summary>A clip sent as itself, prepared earlier (a batch run's kept copy), from its quoted data URI JSON.</summary>
        internal static PreparedImage KeptVideo(byte[] dataUriJson, double seconds, int width, int height, long byteCount) =>
            new PreparedImage(dataUriJson, "video/mp4", width, height, byteCount) { ClipSeconds = seconds };

        /// <summary>True for a clip sent as itself: a video_url part, not an image_url.</summary>
        internal bool IsVideo => MediaType.StartsWith("video/", StringComparison.Ordinal);

        /// <summary>What the run should hear about how the image was sent (a format few servers read, a flattened PNG); null for nothing.</summary>
        internal string? Note { get; init; }
    }
}
