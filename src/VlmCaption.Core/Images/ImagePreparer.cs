using System;
using System.IO;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace VlmCaption.Images
{
    /// <summary>Reads an image file once and encodes what the model should see: oriented, scaled down, in a format every server takes.</summary>
    public sealed class ImagePreparer
    {
        private readonly ImagePreparationOptions options;
        private readonly Configuration configuration;

        /// <summary>Creates a preparer; its ImageSharp configuration caps what one image may allocate.</summary>
        public ImagePreparer(ImagePreparationOptions options)
        {
            this.options = options;
            configuration = Configuration.Default.Clone();

            // Four bytes a pixel at the pixel budget, plus room for the resize buffers: a crafted file
            // that lies about its size cannot make the decoder take more than this.
            long limitMegabytes = Math.Max(64, (options.MaxPixels * 4 / (1024 * 1024)) + 64);
            configuration.MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                AllocationLimitMegabytes = (int)Math.Min(int.MaxValue, limitMegabytes),
                MaximumPoolSizeMegabytes = 64,
            });
        }

        /// <summary>Prepares the image at <paramref name="path"/>; throws <see cref="CaptionException"/> for a file that cannot be sent.</summary>
        public PreparedImage Prepare(string path)
        {
            byte[] data;
            try
            {
                data = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CaptionException("ImageReadFailed", CaptionErrorCategory.ReadError, $"Cannot read '{path}': {e.Message}", e);
            }

            if (data.Length == 0)
            {
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' is empty (0 bytes).");
            }

            string? sniffed = MediaTypeSniffer.Sniff(new ReadOnlySpan<byte>(data, 0, Math.Min(data.Length, MediaTypeSniffer.HeaderLength)));
            return options.MaxImageSize == 0 ? PassThrough(path, data, sniffed) : Reencode(path, data, sniffed);
        }

        private PreparedImage PassThrough(string path, byte[] data, string? sniffed)
        {
            if (sniffed is null)
            {
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' is not in a known image format (its first bytes match none), so it cannot be sent.");
            }

            IImageInfo? info = TryIdentify(data, out _);
            return new PreparedImage(data, sniffed, info?.Width ?? 0, info?.Height ?? 0);
        }

        private PreparedImage Reencode(string path, byte[] data, string? sniffed)
        {
            IImageInfo? info = TryIdentify(data, out IImageFormat? format);
            if (info is null || format is null)
            {
                string what = sniffed is null ? "not an image format VlmCaption knows" : $"{sniffed}, which this build cannot decode";
                string advice = sniffed is null ? "" : " Use -MaxImageSize 0 to send the file untouched to a server that reads it.";
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' is {what}.{advice}");
            }

            long pixels = (long)info.Width * info.Height;
            if (pixels > options.MaxPixels)
            {
                throw new CaptionException("ImageTooLarge", CaptionErrorCategory.LimitsExceeded, $"'{path}' declares {info.Width}x{info.Height} pixels ({pixels / 1_000_000.0:0.#} MP), over the limit of {options.MaxPixels / 1_000_000.0:0.#} MP. Raise -MaxPixels if the image is genuine.");
            }

            // Decoding to three bytes a pixel saves a quarter of the memory where there can be no alpha;
            // some decoders do not report it, so unknown counts as "may have alpha".
            bool mayHaveAlpha = format.Name != "JPEG" && info.PixelType?.AlphaRepresentation != PixelAlphaRepresentation.None;
            try
            {
                return mayHaveAlpha ? Encode<Rgba32>(data) : Encode<Rgb24>(data);
            }
            catch (Exception e) when (e is ImageFormatException || e is InvalidImageContentException || e is NotSupportedException || e is InvalidMemoryOperationException)
            {
                throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, $"'{path}' ({format.Name}, {info.Width}x{info.Height}) could not be decoded: {e.Message}", e);
            }
        }

        private PreparedImage Encode<TPixel>(byte[] data)
            where TPixel : unmanaged, IPixel<TPixel>
        {
            using Image<TPixel> image = Image.Load<TPixel>(configuration, data);
            while (image.Frames.Count > 1)
            {
                image.Frames.RemoveFrame(image.Frames.Count - 1);
            }

            image.Mutate(x =>
            {
                x.AutoOrient();
                if (Math.Max(image.Width, image.Height) > options.MaxImageSize)
                {
                    x.Resize(new ResizeOptions { Mode = ResizeMode.Max, Size = new Size(options.MaxImageSize, options.MaxImageSize) });
                }
            });

            // The model needs pixels, not the camera's metadata.
            image.Metadata.ExifProfile = null;
            image.Metadata.IccProfile = null;
            image.Metadata.XmpProfile = null;

            using var output = new MemoryStream();
            string mediaType;
            if (HasTransparency(image))
            {
                image.SaveAsPng(output, new PngEncoder { ColorType = PngColorType.RgbWithAlpha, CompressionLevel = PngCompressionLevel.BestSpeed });
                mediaType = "image/png";
            }
            else
            {
                image.SaveAsJpeg(output, new JpegEncoder { Quality = options.JpegQuality });
                mediaType = "image/jpeg";
            }

            return new PreparedImage(output.ToArray(), mediaType, image.Width, image.Height);
        }

        private static bool HasTransparency<TPixel>(Image<TPixel> image)
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

        private IImageInfo? TryIdentify(byte[] data, out IImageFormat? format)
        {
            try
            {
                return Image.Identify(configuration, data, out format);
            }
            catch (Exception e) when (e is ImageFormatException || e is InvalidImageContentException || e is NotSupportedException)
            {
                format = null;
                return null;
            }
        }
    }
}
