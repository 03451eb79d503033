using System.Buffers.Binary;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Pbm;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace VlmCaption.TestServer;

/// <summary>What test image to make: tests generate their images instead of committing binaries.</summary>
public sealed class ImageSpec
{
    public int Width { get; set; } = 64;
    public int Height { get; set; } = 48;
    public string Color { get; set; } = "red";
    public string Format { get; set; } = "png";

    /// <summary>Make the left half transparent.</summary>
    public bool Alpha { get; set; }

    /// <summary>EXIF orientation tag (1-8) to write (JPEG only).</summary>
    public int Orientation { get; set; }

    /// <summary>Frames of an animated GIF; later frames are white.</summary>
    public int Frames { get; set; } = 1;

    /// <summary>16 bits per channel (PNG).</summary>
    public bool Bits16 { get; set; }

    /// <summary>Indexed colour (PNG).</summary>
    public bool Palette { get; set; }

    /// <summary>CMYK colour (JPEG).</summary>
    public bool Cmyk { get; set; }

    /// <summary>"solid" (default) or "photo": gradients with noise, which compress like a photograph.</summary>
    public string Pattern { get; set; } = "solid";

    /// <summary>JPEG quality.</summary>
    public int Quality { get; set; } = 90;

    /// <summary>EXIF camera make, model, lens and date taken ("yyyy:MM:dd HH:mm:ss") to write.</summary>
    public string? Make { get; set; }
    public string? Model { get; set; }
    public string? Lens { get; set; }
    public string? Taken { get; set; }

    /// <summary>EXIF GPS position in signed degrees.</summary>
    public double? Latitude { get; set; }
    public double? Longitude { get; set; }

    public static ImageSpec FromQuery(IQueryCollection query)
    {
        var spec = new ImageSpec();
        string? Get(string name) => query.TryGetValue(name, out var v) ? v.ToString() : null;
        if (Get("width") is string w) spec.Width = int.Parse(w);
        if (Get("height") is string h) spec.Height = int.Parse(h);
        if (Get("color") is string c) spec.Color = c;
        if (Get("format") is string f) spec.Format = f;
        spec.Alpha = Get("alpha") == "true";
        if (Get("orientation") is string o) spec.Orientation = int.Parse(o);
        if (Get("frames") is string n) spec.Frames = int.Parse(n);
        spec.Bits16 = Get("bits16") == "true";
        spec.Palette = Get("palette") == "true";
        spec.Cmyk = Get("cmyk") == "true";
        spec.Make = Get("make");
        spec.Model = Get("model");
        spec.Lens = Get("lens");
        spec.Taken = Get("taken");
        if (Get("latitude") is string la) spec.Latitude = double.Parse(la, System.Globalization.CultureInfo.InvariantCulture);
        if (Get("longitude") is string lo) spec.Longitude = double.Parse(lo, System.Globalization.CultureInfo.InvariantCulture);
        return spec;
    }
}

public static class ImageFactory
{
    /// <summary>A valid PNG signature and IHDR declaring the given size, then a tiny IDAT and IEND: a decompression bomb's header.</summary>
    public static byte[] PngDeclaring(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = 6;
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typed);
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        png.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }

    // Smooth gradients plus fixed-seed noise: a file size and decoding cost close to a real photograph's.
    private static void PaintPhoto(Image<Rgba32> image)
    {
        var random = new Random(1234);
        var noise = new byte[4096];
        random.NextBytes(noise);
        int width = image.Width, height = image.Height;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgba32> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    int n = (noise[((y * 31) + x) & 4095] & 15) - 8;
                    row[x] = new Rgba32(
                        (byte)Math.Clamp((x * 255 / width) + n, 0, 255),
                        (byte)Math.Clamp((y * 255 / height) + n, 0, 255),
                        (byte)Math.Clamp(128 + (int)(100 * Math.Sin((x + y) / 50.0)) + n, 0, 255),
                        255);
                }
            }
        });
    }

    private static Rational[] Dms(double value)
    {
        value = Math.Abs(value);
        uint degrees = (uint)value;
        uint minutes = (uint)((value - degrees) * 60);
        double seconds = (value - degrees - (minutes / 60.0)) * 3600;
        return [new Rational(degrees, 1), new Rational(minutes, 1), new Rational((uint)Math.Round(seconds * 10000), 10000)];
    }

    public static byte[] Make(ImageSpec spec)
    {
        Rgba32 colour = ImageFacts.ColourValue(spec.Color);
        using var image = new Image<Rgba32>(spec.Width, spec.Height, colour);
        if (spec.Pattern == "photo")
        {
            PaintPhoto(image);
        }

        if (spec.Alpha)
        {
            image.ProcessPixelRows(rows =>
            {
                for (int y = 0; y < rows.Height; y++)
                {
                    rows.GetRowSpan(y)[..(rows.Width / 2)].Fill(new Rgba32(0, 0, 0, 0));
                }
            });
        }

        for (int i = 1; i < spec.Frames; i++)
        {
            using var frame = new Image<Rgba32>(spec.Width, spec.Height, new Rgba32(255, 255, 255, 255));
            image.Frames.AddFrame(frame.Frames.RootFrame);
        }

        if (spec.Orientation > 0 || spec.Make is not null || spec.Model is not null || spec.Lens is not null || spec.Taken is not null || spec.Latitude is not null)
        {
            var exif = image.Metadata.ExifProfile = new ExifProfile();
            if (spec.Orientation > 0) exif.SetValue(ExifTag.Orientation, (ushort)spec.Orientation);
            if (spec.Make is not null) exif.SetValue(ExifTag.Make, spec.Make);
            if (spec.Model is not null) exif.SetValue(ExifTag.Model, spec.Model);
            if (spec.Lens is not null) exif.SetValue(ExifTag.LensModel, spec.Lens);
            if (spec.Taken is not null) exif.SetValue(ExifTag.DateTimeOriginal, spec.Taken);
            if (spec.Latitude is double lat && spec.Longitude is double lon)
            {
                exif.SetValue(ExifTag.GPSLatitude, Dms(lat));
                exif.SetValue(ExifTag.GPSLatitudeRef, lat < 0 ? "S" : "N");
                exif.SetValue(ExifTag.GPSLongitude, Dms(lon));
                exif.SetValue(ExifTag.GPSLongitudeRef, lon < 0 ? "W" : "E");
            }
        }

        using var output = new MemoryStream();
        switch (spec.Format.ToLowerInvariant())
        {
            case "png":
                image.SaveAsPng(output, new PngEncoder
                {
                    ColorType = spec.Palette ? PngColorType.Palette : spec.Alpha ? PngColorType.RgbWithAlpha : PngColorType.Rgb,
                    BitDepth = spec.Bits16 ? PngBitDepth.Bit16 : PngBitDepth.Bit8,
                });
                break;
            case "jpg":
            case "jpeg":
                image.SaveAsJpeg(output, new JpegEncoder { Quality = spec.Quality, ColorType = spec.Cmyk ? JpegColorType.Cmyk : null });
                break;
            case "gif":
                image.SaveAsGif(output, new GifEncoder());
                break;
            case "bmp":
                image.SaveAsBmp(output, new BmpEncoder());
                break;
            case "tif":
            case "tiff":
                image.SaveAsTiff(output, new TiffEncoder());
                break;
            case "webp":
                image.SaveAsWebp(output, new WebpEncoder { FileFormat = WebpFileFormatType.Lossless });
                break;
            case "tga":
                image.SaveAsTga(output, new TgaEncoder());
                break;
            case "pbm":
                image.SaveAsPbm(output, new PbmEncoder());
                break;
            default:
                throw new ArgumentException($"Unknown format '{spec.Format}'.");
        }

        return output.ToArray();
    }
}
