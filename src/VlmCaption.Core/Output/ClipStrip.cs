using System;
using System.Collections.Generic;
using System.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using VlmCaption.Images;
using VlmCaption.Video;

namespace VlmCaption.Output
{
    /// <summary>
    /// A clip's preview for the review page: its frames side by side in one JPEG, so a reviewer sees how the clip
    /// moves before reading its caption. The frames are already small (prepared at the thumbnail size).
    /// </summary>
    internal static class ClipStrip
    {
        /// <summary>One image of the frames of <paramref name="clip"/>, left to right; the clip's first frame alone when it has one.</summary>
        public static PreparedImage Of(PreparedImage clip)
        {
            IReadOnlyList<ClipFrame> frames = clip.Frames;
            if (frames.Count <= 1)
            {
                return frames.Count == 1 ? frames[0].Image : clip;
            }

            var decoded = new List<Image<Rgb24>>(frames.Count);
            try
            {
                foreach (ClipFrame frame in frames)
                {
                    decoded.Add(Image.Load<Rgb24>(Bytes(frame.Image)));
                }

                int width = 0, height = 0;
                foreach (Image<Rgb24> frame in decoded)
                {
                    width += frame.Width;
                    height = Math.Max(height, frame.Height);
                }

                using var strip = new Image<Rgb24>(width, height, new Rgb24(0, 0, 0));
                int left = 0;
                foreach (Image<Rgb24> frame in decoded)
                {
                    int x = left;
                    frame.ProcessPixelRows(strip, (from, to) =>
                    {
                        for (int y = 0; y < from.Height; y++)
                        {
                            from.GetRowSpan(y).CopyTo(to.GetRowSpan(y).Slice(x));
                        }
                    });
                    left += frame.Width;
                }

                using var output = new MemoryStream();
                strip.SaveAsJpeg(output, new JpegEncoder { Quality = 70 });
                return new PreparedImage(output.ToArray(), "image/jpeg", width, height);
            }
            finally
            {
                decoded.ForEach(image => image.Dispose());
            }
        }

        /// <summary>A prepared image's bytes, back from its data URI.</summary>
        private static byte[] Bytes(PreparedImage image)
        {
            string uri = System.Text.Encoding.ASCII.GetString(image.DataUriJson);
            int comma = uri.IndexOf(',');
            return Convert.FromBase64String(uri.Substring(comma + 1, uri.Length - comma - 2));
        }
    }
}
