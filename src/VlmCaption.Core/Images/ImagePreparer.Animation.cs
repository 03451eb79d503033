using System;
using System.Collections.Generic;
using System.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;

namespace VlmCaption.Images
{
    /// <summary>Animated GIFs, prepared as clips are: their frames spread evenly over their running time.</summary>
    public sealed partial class ImagePreparer
    {
        /// <summary>
        /// An animated GIF as a clip: its frames decoded (at most as many as the pixel budget allows, and 1000) with
        /// their delays, clip_frames of them taken evenly over its running time and each prepared as an image; a GIF
        /// of one frame is prepared as the image it is. A delay under 2 hundredths counts as 10, as browsers play it.
        /// </summary>
        private PreparedImage Animation(FileStream stream, string path, IImageInfo info)
        {
            long budget = Math.Max(1, Math.Min(1000, options.MaxPixels / Math.Max(1L, (long)info.Width * info.Height)));
            stream.Position = 0;
            Image<Rgba32> image;
            try
            {
                image = Image.Load<Rgba32>(configuration, stream, new GifDecoder { DecodingMode = FrameDecodingMode.All, MaxFrames = (uint)budget });
            }
            catch (Exception e) when (e is ImageFormatException || e is InvalidImageContentException || e is NotSupportedException || e is InvalidMemoryOperationException || e is EndOfStreamException)
            {
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' (GIF, {info.Width}x{info.Height}) could not be decoded: {e.Message}", e);
            }

            using (image)
            {
                int count = image.Frames.Count;
                if (count <= 1)
                {
                    // A still GIF: the one decode serves, as the image it is.
                    return Finish(image, path, image.Width, image.Height);
                }

                var ends = new double[count];
                double total = 0;
                for (int i = 0; i < count; i++)
                {
                    int delay = image.Frames[i].Metadata.GetGifMetadata().FrameDelay;
                    total += (delay < 2 ? 10 : delay) / 100.0;
                    ends[i] = total;
                }

                int wanted = Math.Min(options.ClipFrames, count);
                var frames = new List<Video.ClipFrame>(wanted);
                int last = -1;
                for (int i = 0; i < wanted; i++)
                {
                    double at = total * (i + 0.5) / wanted;
                    int index = Array.FindIndex(ends, end => at < end);
                    index = index < 0 ? count - 1 : index;
                    if (index == last)
                    {
                        continue;
                    }

                    last = index;
                    using Image<Rgba32> frame = image.Frames.CloneFrame(index);
                    frames.Add(new Video.ClipFrame(Finish(frame, path, image.Width, image.Height), Math.Round(at, 3)));
                }

                return PreparedImage.Clip(frames, Math.Round(total, 3), image.Width, image.Height);
            }
        }
    }
}
