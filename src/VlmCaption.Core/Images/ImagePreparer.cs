using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using VlmCaption.Images.Jpeg;

namespace VlmCaption.Images
{
    /// <summary>
    /// Reads an image file once and encodes what the model should see: oriented, scaled down, in a format every
    /// server takes. Files are decoded from the stream (a 200 MB file is not read into memory first), the header's
    /// pixel count is checked before decoding, ImageSharp's allocations are capped, and only a few images are
    /// decoded at once, so memory stays bounded whatever the files and the number of images in flight.
    /// </summary>
    public sealed partial class ImagePreparer
    {
        // Sizes below which a too-large image is not scaled further: the cap is then unreasonable, or transparency must go.
        private const int MinFitSide = 64;
        private const int FlattenSide = 512;

        // A JPEG larger than this is decoded by ImageSharp from the file rather than read into memory for the reduced decode.
        private const long MaxScaledDecodeBytes = 64L * 1024 * 1024;

        private readonly ImagePreparationOptions options;
        private readonly Video.ClipPreparer clips;
        private readonly Configuration configuration;
        private readonly SemaphoreSlim decodes;

        /// <summary>Creates a preparer; its ImageSharp configuration caps what one image may allocate.</summary>
        public ImagePreparer(ImagePreparationOptions options)
        {
            this.options = options;
            clips = new Video.ClipPreparer(options);
            decodes = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentDecodes));
            configuration = Configuration.Default.Clone();

            // Images are prepared one per core already; ImageSharp's own row parallelism on top only adds
            // scheduling and contention (about 8 % more CPU per photo, measured).
            configuration.MaxDegreeOfParallelism = 1;

            // Four bytes a pixel at the pixel budget, plus room for the resize buffers: a crafted file that lies
            // about its size cannot make the decoder take more than this.
            long limitMegabytes = Math.Max(64, (options.MaxPixels * 4 / (1024 * 1024)) + 64);
            configuration.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                AllocationLimitMegabytes = (int)Math.Min(int.MaxValue, limitMegabytes),
                MaximumPoolSizeMegabytes = 64,
            });
        }

        /// <summary>
        /// Prepares the image when one of the few decoding places is free, waiting without holding a thread;
        /// throws <see cref="CaptionException"/> for a file that cannot be sent.
        /// </summary>
        public async Task<PreparedImage> PrepareAsync(string path, CancellationToken cancellationToken)
        {
            await decodes.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (Video.ClipExtensions.IsClip(path))
                {
                    // ffmpeg decodes in its own process; the place is held all the same, as it takes a core.
                    return await clips.PrepareAsync(path, cancellationToken).ConfigureAwait(false);
                }

                // Off the thread pool: a decode would hold back the network work of every image in flight (DecodeThreads).
                return await DecodeThreads.Run(() => Prepare(path)).ConfigureAwait(false);
            }
            finally
            {
                decodes.Release();
            }
        }

        /// <summary>Prepares the image at <paramref name="path"/> now; throws <see cref="CaptionException"/> for a file that cannot be sent.</summary>
        public PreparedImage Prepare(string path)
        {
            // Checked before opening: opening a FIFO named like an image would block this decoding place for good.
            if (RegularFile.Check(path, long.MaxValue) == RegularFile.Kind.EmptyOrSpecial)
            {
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' is empty (0 bytes), or not a regular file (a FIFO or a device), so it was not opened.");
            }

            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 81920);
                var header = new byte[MediaTypeSniffer.HeaderLength];
                int read = stream.Read(header, 0, header.Length);
                string? sniffed = MediaTypeSniffer.Sniff(new ReadOnlySpan<byte>(header, 0, read));
                stream.Position = 0;
                return options.MaxImageSize == 0 ? PassThrough(path, stream, sniffed) : Reencode(path, stream, sniffed);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CaptionException("ImageReadFailed", CaptionErrorCategory.ReadError, $"Cannot read '{path}': {e.Message}", e);
            }
        }

        private PreparedImage PassThrough(string path, FileStream stream, string? sniffed)
        {
            if (sniffed is null)
            {
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' is not in a known image format (its first bytes match none), so it cannot be sent.");
            }

            long cap = Math.Min(options.MaxPassThroughBytes, options.MaxImageBytes);
            if (stream.Length > cap)
            {
                throw new CaptionException("ImageTooLarge", CaptionErrorCategory.LimitsExceeded, $"'{path}' is {stream.Length / 1048576.0:0.##} MB, over the {cap / 1048576.0:0.##} MB sent untouched (-MaxImageBytes). Let VlmCaption scale it down (-MaxImageSize above 0), or raise -MaxImageBytes for a server that takes more.");
            }

            byte[] data = ImageBytes.ReadAll(stream);
            IImageInfo? info = TryIdentify(new MemoryStream(data, writable: false), out _);
            return new PreparedImage(data, sniffed, info?.Width ?? 0, info?.Height ?? 0) { Note = ImageBytes.PassThroughNote(sniffed) }.WithOriginal(info?.Width ?? 0, info?.Height ?? 0);
        }

        private PreparedImage Reencode(string path, FileStream stream, string? sniffed)
        {
            if (sniffed == "image/webp" && WebpContainer.IsAnimated(stream))
            {
                return WebpAnimation(stream, path);
            }

            IImageInfo? info = TryIdentify(stream, out IImageFormat? format);
            if (info is null || format is null)
            {
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' {ImageBytes.WhyNotDecoded(path, sniffed)}");
            }

            long pixels = (long)info.Width * info.Height;
            if (pixels > options.MaxPixels)
            {
                throw new CaptionException("ImageTooLarge", CaptionErrorCategory.LimitsExceeded, $"'{path}' declares {info.Width}x{info.Height} pixels ({pixels / 1_000_000.0:0.#} MP), over the limit of {options.MaxPixels / 1_000_000.0:0.#} MP. Raise -MaxPixels if the image is genuine.");
            }

            if (SendsAsItIs(stream, info, format))
            {
                // Already what would be sent: the file's own bytes, with no decode, no loss and no growth.
                stream.Position = 0;
                return new PreparedImage(ImageBytes.ReadAll(stream), format.DefaultMimeType, info.Width, info.Height).WithOriginal(info.Width, info.Height);
            }

            if (format.Name == "GIF" && options.ClipFrames > 1)
            {
                return Animation(stream, path, info);
            }

            // Decoding to three bytes a pixel saves a quarter of the memory where there can be no alpha;
            // some decoders do not report it, so unknown counts as "may have alpha".
            bool mayHaveAlpha = format.Name != "JPEG" && info.PixelType?.AlphaRepresentation != PixelAlphaRepresentation.None;
            stream.Position = 0;
            try
            {
                return mayHaveAlpha ? Encode<Rgba32>(stream, path, info, format) : Encode<Rgb24>(stream, path, info, format);
            }
            catch (Exception e) when (e is ImageFormatException || e is InvalidImageContentException || e is NotSupportedException || e is InvalidMemoryOperationException || e is EndOfStreamException)
            {
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' ({format.Name}, {info.Width}x{info.Height}) could not be decoded: {e.Message}", e);
            }
        }

        private PreparedImage Encode<TPixel>(FileStream stream, string path, IImageInfo info, IImageFormat format)
            where TPixel : unmanaged, IPixel<TPixel>
        {
            using Image<TPixel> image = Decode<TPixel>(stream, info, format, out int originalWidth, out int originalHeight);
            return Finish(image, path, originalWidth, originalHeight);
        }

        /// <summary>Scales a decoded image within the size sent and encodes it within the byte cap; <paramref name="image"/> is left to the caller.</summary>
        private PreparedImage Finish<TPixel>(Image<TPixel> image, string path, int originalWidth, int originalHeight)
            where TPixel : unmanaged, IPixel<TPixel>
        {
            Image<TPixel> working = image;
            try
            {
                // An image twice the size sent or more that the reduced decode did not take (not a JPEG, or one of
                // another layout) is first halved by averaging 2x2 blocks, which costs a fraction of resampling it
                // whole; the resampler then works on a quarter of the pixels.
                if (image is Image<Rgb24>)
                {
                    while (Math.Max(working.Width, working.Height) / 2 >= options.MaxImageSize)
                    {
                        Image<TPixel> half = (Image<TPixel>)(object)Halve((Image<Rgb24>)(object)working);
                        if (!ReferenceEquals(working, image))
                        {
                            working.Dispose();
                        }

                        working = half;
                    }
                }

                int longest = Math.Max(working.Width, working.Height);
                if (longest > options.MaxImageSize)
                {
                    // Computed here rather than by ResizeMode.Max so that a 1x60000 strip keeps at least one pixel across.
                    double scale = (double)options.MaxImageSize / Math.Max(originalWidth, originalHeight);
                    var size = new Size(Math.Max(1, (int)Math.Round(originalWidth * scale)), Math.Max(1, (int)Math.Round(originalHeight * scale)));
                    working.Mutate(x => x.Resize(size));
                }

                // The model needs pixels, not the camera's metadata.
                working.Metadata.ExifProfile = null;
                working.Metadata.IccProfile = null;
                working.Metadata.XmpProfile = null;
                PreparedImage prepared = ImageBytes.HasTransparency(working) ? FitPng((Image<Rgba32>)(object)working, path) : FitJpeg(working, path, null);
                return prepared.WithOriginal(originalWidth, originalHeight);
            }
            finally
            {
                if (!ReferenceEquals(working, image))
                {
                    working.Dispose();
                }
            }
        }

        /// <summary>
        /// Decodes the image, upright, and says its upright size. A JPEG sent at half its size or less is decoded
        /// straight to the smallest of 1/2, 1/4 and 1/8 that is still at least the size sent, when it has the layout
        /// <see cref="ScaledJpegDecoder"/> takes (nearly every camera's and phone's). Any other file, or one that
        /// decoder finds damaged, is decoded whole by ImageSharp.
        /// </summary>
        private Image<TPixel> Decode<TPixel>(FileStream stream, IImageInfo info, IImageFormat format, out int width, out int height)
            where TPixel : unmanaged, IPixel<TPixel>
        {
            Stream source = stream;
            int scale = ReducedScale(Math.Max(info.Width, info.Height));
            if (typeof(TPixel) == typeof(Rgb24) && format.Name == "JPEG" && scale > 1 && stream.Length <= MaxScaledDecodeBytes)
            {
                byte[] data = ImageBytes.ReadAll(stream);
                Image<Rgb24>? scaled = ScaledJpegDecoder.TryDecode(data, scale, configuration, options.MaxPixels);
                if (scaled is not null)
                {
                    // Orientations 5 to 8 turn the image a quarter (the reduced sizes may be equal when the full ones are not).
                    bool turned = info.Metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value is >= 5 and <= 8;
                    scaled.Metadata.ExifProfile = info.Metadata.ExifProfile?.DeepClone();
                    scaled.Mutate(x => x.AutoOrient());
                    (width, height) = turned ? (info.Height, info.Width) : (info.Width, info.Height);
                    return (Image<TPixel>)(object)scaled;
                }

                source = new MemoryStream(data, writable: false);
            }

            Image<TPixel> image = Image.Load<TPixel>(configuration, source);
            while (image.Frames.Count > 1)
            {
                image.Frames.RemoveFrame(image.Frames.Count - 1);
            }

            image.Mutate(x => x.AutoOrient());
            (width, height) = (image.Width, image.Height);
            return image;
        }

        /// <summary>8, 4 or 2 when an image whose longest side is <paramref name="longest"/> can be decoded at that fraction and still be at least the size sent; else 1.</summary>
        private int ReducedScale(int longest)
        {
            int scale = 8;
            while (scale > 1 && longest / scale < options.MaxImageSize)
            {
                scale /= 2;
            }

            return scale;
        }

        /// <summary>The image at half its width and height, each pixel the rounded mean of a 2x2 block (an odd last row or column is dropped).</summary>
        private Image<Rgb24> Halve(Image<Rgb24> source)
        {
            int width = Math.Max(1, source.Width / 2);
            int height = Math.Max(1, source.Height / 2);
            var half = new Image<Rgb24>(configuration, width, height);
            source.ProcessPixelRows(half, (from, to) =>
            {
                for (int y = 0; y < height; y++)
                {
                    Span<Rgb24> top = from.GetRowSpan(2 * y);
                    Span<Rgb24> bottom = from.GetRowSpan(Math.Min(2 * y + 1, from.Height - 1));
                    Span<Rgb24> row = to.GetRowSpan(y);
                    for (int x = 0; x < width; x++)
                    {
                        Rgb24 a = top[2 * x], b = top[Math.Min(2 * x + 1, top.Length - 1)], c = bottom[2 * x], d = bottom[Math.Min(2 * x + 1, bottom.Length - 1)];
                        row[x] = new Rgb24((byte)((a.R + b.R + c.R + d.R + 2) >> 2), (byte)((a.G + b.G + c.G + d.G + 2) >> 2), (byte)((a.B + b.B + c.B + d.B + 2) >> 2));
                    }
                }
            });
            return half;
        }

        /// <summary>
        /// True for a file that needs no work, decided from its header and its last bytes: a JPEG (YCbCr or grey)
        /// or a PNG, within the size and byte caps, upright (no EXIF rotation to apply), carrying no GPS position
        /// (re-encoding drops it; a model needs pixels, and a cloud API should not get where a photo was taken),
        /// and whole (ending in JPEG's end marker or PNG's IEND chunk, so a cut-off file is still caught by the decoder).
        /// </summary>
        private bool SendsAsItIs(FileStream stream, IImageInfo info, IImageFormat format)
        {
            bool jpeg = format.Name == "JPEG";
            if ((!jpeg && format.Name != "PNG") || Math.Max(info.Width, info.Height) > options.MaxImageSize || stream.Length > options.MaxImageBytes || stream.Length < 16)
            {
                return false;
            }

            ExifProfile? exif = info.Metadata.ExifProfile;
            if (exif is not null)
            {
                IExifValue<ushort>? orientation = exif.GetValue(ExifTag.Orientation);
                if ((orientation is not null && orientation.Value > 1) || exif.GetValue(ExifTag.GPSLatitude) is not null || exif.GetValue(ExifTag.GPSLongitude) is not null)
                {
                    return false;
                }
            }

            if (jpeg && info.Metadata.GetJpegMetadata().ColorType is not (JpegColorType.YCbCrRatio420 or JpegColorType.YCbCrRatio444 or JpegColorType.YCbCrRatio422
                or JpegColorType.YCbCrRatio411 or JpegColorType.YCbCrRatio410 or JpegColorType.Luminance))
            {
                return false;
            }

            var tail = new byte[8];
            stream.Position = stream.Length - tail.Length;
            if (stream.Read(tail, 0, tail.Length) != tail.Length)
            {
                return false;
            }

            return jpeg
                ? tail[6] == 0xFF && tail[7] == 0xD9
                : tail[0] == (byte)'I' && tail[1] == (byte)'E' && tail[2] == (byte)'N' && tail[3] == (byte)'D';
        }

        /// <summary>A JPEG within the byte cap: the set quality, then lower qualities, then smaller sizes.</summary>
        private PreparedImage FitJpeg<TPixel>(Image<TPixel> image, string path, string? note)
            where TPixel : unmanaged, IPixel<TPixel>
        {
            foreach (int quality in new[] { options.JpegQuality, 80, 70, 60 })
            {
                if (quality <= options.JpegQuality && Jpeg(image, quality) is byte[] fits)
                {
                    return new PreparedImage(fits, "image/jpeg", image.Width, image.Height) { Note = note };
                }
            }

            while (Math.Max(image.Width, image.Height) > MinFitSide)
            {
                image.Mutate(x => x.Resize(Math.Max(1, image.Width * 3 / 4), Math.Max(1, image.Height * 3 / 4)));
                if (Jpeg(image, 60) is byte[] fits)
                {
                    return new PreparedImage(fits, "image/jpeg", image.Width, image.Height) { Note = note };
                }
            }

            throw TooLargeEncoded(path, image.Width, image.Height);
        }

        /// <summary>A PNG within the byte cap: smaller sizes, then, if even a small one is too large, a JPEG on white.</summary>
        private PreparedImage FitPng(Image<Rgba32> image, string path)
        {
            while (true)
            {
                using var output = new MemoryStream();
                image.SaveAsPng(output, new PngEncoder { ColorType = PngColorType.RgbWithAlpha, CompressionLevel = PngCompressionLevel.BestSpeed });
                if (output.Length <= options.MaxImageBytes)
                {
                    return new PreparedImage(output.ToArray(), "image/png", image.Width, image.Height);
                }

                if (Math.Max(image.Width, image.Height) <= FlattenSide)
                {
                    break;
                }

                image.Mutate(x => x.Resize(Math.Max(1, image.Width * 3 / 4), Math.Max(1, image.Height * 3 / 4)));
            }

            image.Mutate(x => x.BackgroundColor(Color.White));
            string note = $"'{path}' has transparency but was over the byte cap as PNG even at {image.Width}x{image.Height}, so it was sent as JPEG on a white background. Raise -MaxImageBytes to keep it a PNG.";
            return FitJpeg(image, path, note);
        }

        private byte[]? Jpeg<TPixel>(Image<TPixel> image, int quality)
            where TPixel : unmanaged, IPixel<TPixel>
        {
            using var output = new MemoryStream();
            image.SaveAsJpeg(output, new JpegEncoder { Quality = quality });
            return output.Length <= options.MaxImageBytes ? output.ToArray() : null;
        }

        private CaptionException TooLargeEncoded(string path, int width, int height) =>
            new CaptionException("ImageTooLarge", CaptionErrorCategory.LimitsExceeded, $"'{path}' stays over the byte cap of {options.MaxImageBytes} bytes even as a {width}x{height} JPEG; raise -MaxImageBytes.");

        private IImageInfo? TryIdentify(Stream stream, out IImageFormat? format)
        {
            try
            {
                return Image.Identify(configuration, stream, out format);
            }
            catch (Exception e) when (e is ImageFormatException || e is InvalidImageContentException || e is NotSupportedException || e is EndOfStreamException || e is InvalidMemoryOperationException)
            {
                format = null;
                return null;
            }
        }
    }
}
