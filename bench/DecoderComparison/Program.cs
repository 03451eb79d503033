// Compares the CPU cost of turning a large JPEG into the 1536-pixel JPEG VlmCaption sends, with ImageSharp 2.1
// (the module's decoder for everything else), the module's own reduced decoder (ScaledJpegDecoder) and two
// libraries that can decode a JPEG at a reduced scale (DCT scaling): SkiaSharp (libjpeg-turbo, native) and
// BitMiracle.LibJpeg.NET (managed libjpeg). Usage: dotnet run -c Release -- photo.jpg
using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using SkiaSharp;
using VlmCaption.Images.Jpeg;

const int Target = 1536;
const int Runs = 8;
byte[] file = File.ReadAllBytes(args.Length > 0 ? args[0] : throw new ArgumentException("Give the path of a JPEG photograph."));
Configuration serial = Configuration.Default.Clone();
serial.MaxDegreeOfParallelism = 1;

Measure("ImageSharp: decode", () => { using var image = Image.Load<Rgb24>(serial, file); });
Measure("ImageSharp: decode, resize, encode", () => ImageSharpPipeline(halveFirst: false));
Measure("ImageSharp: decode, halve, resize, encode", () => ImageSharpPipeline(halveFirst: true));
Measure("ScaledJpegDecoder: decode at 1/2", () => ScaledJpegDecoder.TryDecode(file, 2, serial, long.MaxValue)!.Dispose());
Measure("ScaledJpegDecoder: decode at 1/2, resize, encode", () => ReducedPipeline());
Measure("SkiaSharp: decode", () => SkiaDecode(1f).Dispose());
Measure("SkiaSharp: decode at 1/2", () => SkiaDecode(0.5f).Dispose());
Measure("SkiaSharp: decode at 1/2, resize, encode", SkiaPipeline);
Measure("LibJpeg.NET: decode", () => LibJpegDecode(1));
Measure("LibJpeg.NET: decode at 1/2", () => LibJpegDecode(2));

void Measure(string name, Action work)
{
    work();
    TimeSpan before = Process.GetCurrentProcess().TotalProcessorTime;
    for (int i = 0; i < Runs; i++)
    {
        work();
    }

    double ms = (Process.GetCurrentProcess().TotalProcessorTime - before).TotalMilliseconds / Runs;
    Console.WriteLine($"{name,-45} {ms,7:0.0} ms CPU");
}

void ImageSharpPipeline(bool halveFirst)
{
    using var image = Image.Load<Rgb24>(serial, file);
    Image<Rgb24> working = image;
    while (halveFirst && Math.Max(working.Width, working.Height) / 2 >= Target)
    {
        working = Halve(working);
    }

    double scale = (double)Target / Math.Max(image.Width, image.Height);
    working.Mutate(x => x.Resize((int)Math.Round(image.Width * scale), (int)Math.Round(image.Height * scale)));
    using var output = new MemoryStream();
    working.SaveAsJpeg(output, new JpegEncoder { Quality = 90 });
    if (!ReferenceEquals(working, image))
    {
        working.Dispose();
    }
}

void ReducedPipeline()
{
    using Image<Rgb24> half = ScaledJpegDecoder.TryDecode(file, 2, serial, long.MaxValue)!;
    double scale = (double)Target / Math.Max(half.Width * 2, half.Height * 2);
    half.Mutate(x => x.Resize((int)Math.Round(half.Width * 2 * scale), (int)Math.Round(half.Height * 2 * scale)));
    using var output = new MemoryStream();
    half.SaveAsJpeg(output, new JpegEncoder { Quality = 90 });
}

Image<Rgb24> Halve(Image<Rgb24> source)
{
    var half = new Image<Rgb24>(serial, source.Width / 2, source.Height / 2);
    source.ProcessPixelRows(half, (from, to) =>
    {
        for (int y = 0; y < to.Height; y++)
        {
            Span<Rgb24> a = from.GetRowSpan(2 * y), b = from.GetRowSpan(2 * y + 1), row = to.GetRowSpan(y);
            for (int x = 0; x < row.Length; x++)
            {
                Rgb24 p = a[2 * x], q = a[2 * x + 1], r = b[2 * x], s = b[2 * x + 1];
                row[x] = new Rgb24((byte)((p.R + q.R + r.R + s.R + 2) >> 2), (byte)((p.G + q.G + r.G + s.G + 2) >> 2), (byte)((p.B + q.B + r.B + s.B + 2) >> 2));
            }
        }
    });
    return half;
}

SKBitmap SkiaDecode(float scale)
{
    using var codec = SKCodec.Create(new MemoryStream(file));
    SKSizeI size = scale < 1 ? codec.GetScaledDimensions(scale) : new SKSizeI(codec.Info.Width, codec.Info.Height);
    var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
    var bitmap = new SKBitmap(info);
    codec.GetPixels(info, bitmap.GetPixels());
    return bitmap;
}

void SkiaPipeline()
{
    using SKBitmap half = SkiaDecode(0.5f);
    double scale = (double)Target / Math.Max(half.Width * 2, half.Height * 2);
    var info = new SKImageInfo((int)Math.Round(half.Width * 2 * scale), (int)Math.Round(half.Height * 2 * scale), SKColorType.Rgba8888, SKAlphaType.Opaque);
    using SKBitmap resized = half.Resize(info, new SKSamplingOptions(SKCubicResampler.Mitchell));
    using SKData data = resized.Encode(SKEncodedImageFormat.Jpeg, 90);
}

void LibJpegDecode(int denominator)
{
    var decompress = new BitMiracle.LibJpeg.Classic.jpeg_decompress_struct();
    decompress.jpeg_stdio_src(new MemoryStream(file));
    decompress.jpeg_read_header(true);
    decompress.Scale_num = 1;
    decompress.Scale_denom = denominator;
    decompress.Out_color_space = BitMiracle.LibJpeg.Classic.J_COLOR_SPACE.JCS_RGB;
    decompress.jpeg_start_decompress();
    var row = new[] { new byte[decompress.Output_width * decompress.Output_components] };
    while (decompress.Output_scanline < decompress.Output_height)
    {
        decompress.jpeg_read_scanlines(row, 1);
    }

    decompress.jpeg_finish_decompress();
}
