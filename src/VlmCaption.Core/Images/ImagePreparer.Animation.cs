using System;
using System.Collections.Generic;
using System.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace VlmCaption.Images
{
    /// <summary>Animated GIFs and WebPs, prepared as clips are: their frames spread evenly over their running time.</summary>
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

                var frames = new List<Video.ClipFrame>();
                foreach ((int index, double at) in Spread(ends))
                {
                    using Image<Rgba32> frame = image.Frames.CloneFrame(index);
                    frames.Add(new Video.ClipFrame(Finish(frame, path, image.Width, image.Height), at));
                }

                return PreparedImage.Clip(frames, Math.Round(total, 3), image.Width, image.Height);
            }
        }

        /// <summary>
        /// An animated WebP as a clip: the frames are composed on the canvas in order as the container
        /// specification says (blended or not, the last one's rectangle cleared or not), and the canvas is taken at
        /// clip_frames times spread evenly over the running time; with clip_frames 1 the first frame is sent as an
        /// image, as for a GIF. Only the first 1000 frames count, and fewer of large ones (ten times the pixel
        /// budget in all). A duration of 10 ms or less counts as 100 ms, as
        /// browsers play it. The canvas is checked against the pixel budget before anything is decoded.
        /// </summary>
        private PreparedImage WebpAnimation(FileStream stream, string path)
        {
            WebpContainer.Animation animation;
            try
            {
                animation = WebpContainer.Read(stream, 1000);
            }
            catch (InvalidDataException e)
            {
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' (animated WebP) could not be read: {e.Message}.", e);
            }

            long pixels = (long)animation.CanvasWidth * animation.CanvasHeight;
            if (pixels > options.MaxPixels)
            {
                throw new CaptionException("ImageTooLarge", CaptionErrorCategory.LimitsExceeded, $"'{path}' declares {animation.CanvasWidth}x{animation.CanvasHeight} pixels ({pixels / 1_000_000.0:0.#} MP), over the limit of {options.MaxPixels / 1_000_000.0:0.#} MP. Raise -MaxPixels if the image is genuine.");
            }

            // Every frame up to the last one taken is decoded and drawn on the canvas: at most ten canvases' worth of
            // the pixel budget, so an animation of many large frames costs no more than ten large images.
            int count = (int)Math.Max(1, Math.Min(animation.Frames.Count, 10 * options.MaxPixels / Math.Max(1L, pixels)));
            var ends = new double[count];
            double total = 0;
            for (int i = 0; i < count; i++)
            {
                int duration = animation.Frames[i].DurationMs;
                total += (duration <= 10 ? 100 : duration) / 1000.0;
                ends[i] = total;
            }

            List<(int Index, double At)> wanted = options.ClipFrames <= 1 || count == 1 ? new List<(int, double)> { (0, 0) } : Spread(ends);
            var frames = new List<Video.ClipFrame>(wanted.Count);
            try
            {
                using var canvas = new Image<Rgba32>(configuration, animation.CanvasWidth, animation.CanvasHeight);
                WebpContainer.Frame? shown = null;
                int next = 0;
                for (int i = 0; next < wanted.Count; i++)
                {
                    WebpContainer.Frame frame = animation.Frames[i];
                    if (shown is { DisposeToBackground: true })
                    {
                        Clear(canvas, shown);
                    }

                    using (Image<Rgba32> picture = Image.Load<Rgba32>(configuration, WebpContainer.StillFile(stream, frame)))
                    {
                        if (picture.Width != frame.Width || picture.Height != frame.Height)
                        {
                            throw new InvalidDataException($"frame {i + 1} says {frame.Width}x{frame.Height} but holds a {picture.Width}x{picture.Height} picture");
                        }

                        canvas.Mutate(c => c.DrawImage(picture, new Point(frame.X, frame.Y), PixelColorBlendingMode.Normal, frame.Blend ? PixelAlphaCompositionMode.SrcOver : PixelAlphaCompositionMode.Src, 1f));
                    }

                    shown = frame;
                    for (; next < wanted.Count && wanted[next].Index == i; next++)
                    {
                        using Image<Rgba32> taken = canvas.Clone();
                        frames.Add(new Video.ClipFrame(Finish(taken, path, canvas.Width, canvas.Height), wanted[next].At));
                    }
                }
            }
            catch (Exception e) when (e is InvalidDataException || e is ImageFormatException || e is InvalidImageContentException || e is NotSupportedException || e is EndOfStreamException)
            {
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' (animated WebP, {animation.CanvasWidth}x{animation.CanvasHeight}, {count} frames) could not be decoded: {e.Message}", e);
            }

            return options.ClipFrames <= 1 || count == 1
                ? frames[0].Image
                : PreparedImage.Clip(frames, Math.Round(total, 3), animation.CanvasWidth, animation.CanvasHeight);
        }

        /// <summary>
        /// The frames to take, at the moments a clip's would be taken (<see cref="Video.ClipTimes"/>), each with the
        /// frame shown then; a frame that would be taken twice running is taken once.
        /// </summary>
        private List<(int Index, double At)> Spread(double[] ends)
        {
            int count = ends.Length;
            double total = count == 0 ? 0 : ends[count - 1];
            var taken = new List<(int, double)>();
            int last = -1;
            foreach (double at in Video.ClipTimes.For(total, Math.Min(options.ClipFrames, count), options.ClipEverySec))
            {
                int index = Array.FindIndex(ends, end => at < end);
                index = index < 0 ? count - 1 : index;
                if (index != last)
                {
                    taken.Add((index, at));
                    last = index;
                }
            }

            return taken;
        }

        /// <summary>The frame's rectangle made transparent: the background a WebP frame is disposed to (the ANIM colour is only a hint).</summary>
        private static void Clear(Image<Rgba32> canvas, WebpContainer.Frame frame)
        {
            canvas.ProcessPixelRows(rows =>
            {
                for (int y = frame.Y; y < frame.Y + frame.Height; y++)
                {
                    rows.GetRowSpan(y).Slice(frame.X, frame.Width).Clear();
                }
            });
        }
    }
}
