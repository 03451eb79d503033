using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.PixelFormats;

namespace VlmCaption.TestServer;

/// <summary>What the server measured from an image it was sent.</summary>
public sealed record ImageFacts(string DeclaredType, string Format, string MimeType, int Width, int Height, long Bytes, string Colour)
{
    /// <summary>SHA-256 of the bytes received, in hex: tests compare it with a file to prove it was sent as it is.</summary>
    public string Sha256 { get; init; } = "";

    private static readonly (string Name, Rgb24 Value)[] Palette =
    [
        ("black", new Rgb24(0, 0, 0)), ("white", new Rgb24(255, 255, 255)), ("grey", new Rgb24(128, 128, 128)),
        ("red", new Rgb24(255, 0, 0)), ("green", new Rgb24(0, 255, 0)), ("blue", new Rgb24(0, 0, 255)),
        ("yellow", new Rgb24(255, 255, 0)), ("cyan", new Rgb24(0, 255, 255)), ("magenta", new Rgb24(255, 0, 255)),
        ("orange", new Rgb24(255, 165, 0)), ("purple", new Rgb24(128, 0, 128)), ("brown", new Rgb24(139, 69, 19)),
    ];

    public static Rgba32 ColourValue(string name)
    {
        foreach (var (n, v) in Palette)
        {
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
            {
                return new Rgba32(v.R, v.G, v.B, 255);
            }
        }

        throw new ArgumentException($"Unknown colour '{name}'. Known: {string.Join(", ", Palette.Select(p => p.Name))}.");
    }

    /// <summary>Decodes a data URI; throws <see cref="FormatException"/> with a server-style message when it cannot.</summary>
    public static ImageFacts FromDataUri(string url)
    {
        if (!url.StartsWith("data:", StringComparison.Ordinal) || url.IndexOf(";base64,", StringComparison.Ordinal) is var comma && comma < 0)
        {
            throw new FormatException("image_url must be a base64 data URI");
        }

        string declared = url[5..comma];
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(url[(comma + 8)..]);
        }
        catch (FormatException)
        {
            throw new FormatException("image data is not valid base64");
        }

        try
        {
            using Image<Rgba32> image = Image.Load<Rgba32>(bytes, out IImageFormat format);
            return new ImageFacts(declared, format.Name, format.DefaultMimeType, image.Width, image.Height, bytes.Length, Dominant(image))
            {
                Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
            };
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or ImageFormatException)
        {
            throw new FormatException($"could not decode image ({declared}, {bytes.Length} bytes): {e.Message}");
        }
    }

    private static string Dominant(Image<Rgba32> image)
    {
        var counts = new int[Palette.Length];
        int step = Math.Max(1, (int)Math.Sqrt((double)image.Width * image.Height / 10000));
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y += step)
            {
                Span<Rgba32> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x += step)
                {
                    if (row[x].A >= 128)
                    {
                        counts[Nearest(row[x])]++;
                    }
                }
            }
        });
        int best = Array.IndexOf(counts, counts.Max());
        return counts[best] == 0 ? "transparent" : Palette[best].Name;
    }

    private static int Nearest(Rgba32 p)
    {
        int best = 0, bestDistance = int.MaxValue;
        for (int i = 0; i < Palette.Length; i++)
        {
            Rgb24 c = Palette[i].Value;
            int d = ((p.R - c.R) * (p.R - c.R)) + ((p.G - c.G) * (p.G - c.G)) + ((p.B - c.B) * (p.B - c.B));
            if (d < bestDistance)
            {
                best = i;
                bestDistance = d;
            }
        }

        return best;
    }
}
