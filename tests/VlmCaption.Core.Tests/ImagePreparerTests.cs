using SixLabors.ImageSharp;
using VlmCaption.Images;
using VlmCaption.TestServer;
using Xunit;

namespace VlmCaption.Tests;

public class ImagePreparerTests
{
    private static (ImageFacts Facts, PreparedImage Image) Prepare(string path, ImagePreparationOptions? options = null)
    {
        PreparedImage image = new ImagePreparer(options ?? new ImagePreparationOptions()).Prepare(path);
        string uri = System.Text.Encoding.ASCII.GetString(image.DataUriJson).Trim('"');
        return (ImageFacts.FromDataUri(uri), image);
    }

    [Theory]
    [InlineData("gif", "GIF")]
    [InlineData("bmp", "BMP")]
    [InlineData("tiff", "TIFF")]
    [InlineData("webp", "Webp")]
    [InlineData("tga", "TGA")]
    [InlineData("pbm", "PBM")]
    public void Opaque_images_of_every_format_become_jpeg_of_the_same_size(string format, string _)
    {
        using var folder = new TempFolder();
        string path = folder.Image("a." + format, new ImageSpec { Width = 40, Height = 30, Color = "blue", Format = format });
        var (facts, image) = Prepare(path);
        Assert.Equal("image/jpeg", image.MediaType);
        Assert.Equal("image/jpeg", facts.MimeType);
        Assert.Equal((40, 30), (facts.Width, facts.Height));
        Assert.Equal((40, 30), (image.Width, image.Height));
        Assert.Equal(format == "pbm" ? "black" : "blue", facts.Colour);
    }

    private static byte[] Sent(PreparedImage image) =>
        Convert.FromBase64String(System.Text.Encoding.ASCII.GetString(image.DataUriJson).Trim('"').Split(',')[1]);

    [Theory]
    [InlineData("jpeg", "image/jpeg")]
    [InlineData("png", "image/png")]
    public void A_compliant_jpeg_or_png_is_sent_byte_for_byte(string format, string mediaType)
    {
        using var folder = new TempFolder();
        string path = folder.Image("a." + format, new ImageSpec { Width = 640, Height = 480, Format = format, Pattern = "photo" });
        var (facts, image) = Prepare(path);
        Assert.Equal(mediaType, image.MediaType);
        Assert.Equal(File.ReadAllBytes(path), Sent(image));
        Assert.Equal((640, 480), (facts.Width, facts.Height));
        Assert.Equal((640, 480), (image.OriginalWidth, image.OriginalHeight));
    }

    [Fact]
    public void A_tiny_png_is_not_grown_into_a_jpeg()
    {
        using var folder = new TempFolder();
        string path = folder.Image("dot.png", new ImageSpec { Width = 8, Height = 8 });
        var (_, image) = Prepare(path);
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(new FileInfo(path).Length, image.ByteCount);
        Assert.True(image.ByteCount < 200, $"{image.ByteCount} bytes");
    }

    [Theory]
    [InlineData("too wide")]
    [InlineData("over the byte cap")]
    [InlineData("rotated by EXIF")]
    [InlineData("with a GPS position")]
    [InlineData("cut off")]
    public void A_jpeg_that_needs_work_is_decoded_and_encoded_again(string why)
    {
        using var folder = new TempFolder();
        var spec = new ImageSpec { Width = 400, Height = 300, Format = "jpeg", Pattern = "photo" };
        var options = new ImagePreparationOptions();
        switch (why)
        {
            case "too wide": options = new ImagePreparationOptions { MaxImageSize = 200 }; break;
            case "over the byte cap": options = new ImagePreparationOptions { MaxImageBytes = 10_000 }; spec.Width = 1200; spec.Height = 900; spec.Quality = 100; break;
            case "rotated by EXIF": spec.Orientation = 6; break;
            case "with a GPS position": spec.Latitude = 48.85; spec.Longitude = 2.29; break;
        }

        string path = folder.Image("a.jpg", spec);
        if (why == "cut off")
        {
            byte[] whole = File.ReadAllBytes(path);
            File.WriteAllBytes(path, whole[..(whole.Length - 200)]);
        }

        PreparedImage image;
        try
        {
            image = new ImagePreparer(options).Prepare(path);
        }
        catch (CaptionException e) when (why == "cut off")
        {
            // A cut-off JPEG is decoded as far as it goes or refused; it is never sent as it is.
            Assert.Equal("ImageDecodeFailed", e.ErrorId);
            return;
        }

        Assert.NotEqual(File.ReadAllBytes(path), Sent(image));
        Assert.Equal("image/jpeg", image.MediaType);
        if (why == "rotated by EXIF")
        {
            Assert.Equal((300, 400), (image.Width, image.Height));
        }

        if (why == "with a GPS position")
        {
            Assert.Null(Image.Identify(Sent(image))!.Metadata.ExifProfile);
        }
    }

    [Fact]
    public void Transparency_is_kept_as_png()
    {
        using var folder = new TempFolder();
        var (facts, image) = Prepare(folder.Image("a.png", new ImageSpec { Alpha = true, Color = "green" }));
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal("image/png", facts.MimeType);
        Assert.Equal("green", facts.Colour);
    }

    [Fact]
    public void Large_images_are_scaled_down_to_the_longest_side_never_up()
    {
        using var folder = new TempFolder();
        var (big, _) = Prepare(folder.Image("big.jpg", new ImageSpec { Width = 2000, Height = 1000, Format = "jpeg" }), new ImagePreparationOptions { MaxImageSize = 500 });
        Assert.Equal((500, 250), (big.Width, big.Height));
        var (small, _) = Prepare(folder.Image("small.png", new ImageSpec { Width = 100, Height = 50 }), new ImagePreparationOptions { MaxImageSize = 500 });
        Assert.Equal((100, 50), (small.Width, small.Height));
    }

    [Theory]
    [InlineData("jpeg")]
    [InlineData("png")]
    public void Photos_far_larger_than_the_limit_are_reduced_first_and_keep_their_colour_and_shape(string format)
    {
        // 3001x1501 to 700: the JPEG decoded straight to a quarter (751x376), the PNG halved twice (odd last rows
        // dropped); then either is resampled to the size the original gives.
        using var folder = new TempFolder();
        var (facts, image) = Prepare(folder.Image("odd." + format, new ImageSpec { Width = 3001, Height = 1501, Format = format, Color = "red" }), new ImagePreparationOptions { MaxImageSize = 700 });
        Assert.Equal((700, 350), (image.Width, image.Height));
        Assert.Equal("red", facts.Colour);
        Assert.Equal((3001, 1501), (image.OriginalWidth, image.OriginalHeight));
    }

    [Fact]
    public void Exif_orientation_is_applied()
    {
        using var folder = new TempFolder();
        var (facts, _) = Prepare(folder.Image("rotated.jpg", new ImageSpec { Width = 60, Height = 20, Format = "jpeg", Orientation = 6 }));
        Assert.Equal((20, 60), (facts.Width, facts.Height));
    }

    /// <summary>A JPEG whose left half is red and right half blue, with the given EXIF orientation.</summary>
    private static byte[] HalvesJpeg(int width, int height, ushort orientation)
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(width, height, SixLabors.ImageSharp.Color.Blue);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                rows.GetRowSpan(y)[..(width / 2)].Fill(new SixLabors.ImageSharp.PixelFormats.Rgb24(255, 0, 0));
            }
        });
        image.Metadata.ExifProfile = new SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifProfile();
        image.Metadata.ExifProfile.SetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation, orientation);
        using var output = new MemoryStream();
        image.SaveAsJpeg(output, new SixLabors.ImageSharp.Formats.Jpeg.JpegEncoder { Quality = 90 });
        return output.ToArray();
    }

    private static SixLabors.ImageSharp.PixelFormats.Rgb24 Pixel(PreparedImage image, double x, double y)
    {
        using var sent = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(Sent(image));
        return sent[(int)(x * (sent.Width - 1)), (int)(y * (sent.Height - 1))];
    }

    [Fact]
    public void A_photo_decoded_at_a_quarter_is_turned_upright_and_keeps_its_layout()
    {
        // 1600x800 sent at 400: decoded straight to 400x200, then turned by EXIF orientation 6 (90 degrees clockwise),
        // which puts the red left half on top.
        using var folder = new TempFolder();
        var (facts, image) = Prepare(folder.Bytes("turned.jpg", HalvesJpeg(1600, 800, 6)), new ImagePreparationOptions { MaxImageSize = 400 });
        Assert.Equal((200, 400), (facts.Width, facts.Height));
        Assert.Equal((800, 1600), (image.OriginalWidth, image.OriginalHeight));
        Assert.True(Pixel(image, 0.5, 0.1).R > 200 && Pixel(image, 0.5, 0.1).B < 60, "red on top");
        Assert.True(Pixel(image, 0.5, 0.9).B > 200 && Pixel(image, 0.5, 0.9).R < 60, "blue below");
    }

    [Fact]
    public void A_nearly_square_photo_turned_a_quarter_reports_its_upright_size()
    {
        // 1600x1597 decoded at an eighth is 200x200 either way up, so the turn is read from the orientation itself.
        using var folder = new TempFolder();
        var (_, image) = Prepare(folder.Bytes("square.jpg", HalvesJpeg(1600, 1597, 6)), new ImagePreparationOptions { MaxImageSize = 200 });
        Assert.Equal((1597, 1600), (image.OriginalWidth, image.OriginalHeight));
        Assert.True(Pixel(image, 0.5, 0.1).R > 200, "red on top");
    }

    [Fact]
    public void A_progressive_photo_is_decoded_whole_and_sent_the_same_size()
    {
        // The reduced decoder takes only sequential files; a progressive one goes to ImageSharp, as before.
        using var folder = new TempFolder();
        using var picture = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(ImageFactory.Make(new ImageSpec { Width = 1203, Height = 801, Pattern = "photo" }));
        byte[] progressive = ScaledJpegDecoderTests.LibJpeg(picture, "2x2,1x1,1x1", progressive: true);
        Assert.Null(VlmCaption.Images.Jpeg.ScaledJpegDecoder.TryDecode(progressive, 2, SixLabors.ImageSharp.Configuration.Default, long.MaxValue));
        var (facts, image) = Prepare(folder.Bytes("progressive.jpg", progressive), new ImagePreparationOptions { MaxImageSize = 600 });
        var (baseline, _) = Prepare(folder.Bytes("baseline.jpg", ScaledJpegDecoderTests.LibJpeg(picture, "2x2,1x1,1x1")), new ImagePreparationOptions { MaxImageSize = 600 });
        Assert.Equal((600, 400), (facts.Width, facts.Height));
        Assert.Equal((baseline.Width, baseline.Height), (facts.Width, facts.Height));
        Assert.Equal((1203, 801), (image.OriginalWidth, image.OriginalHeight));
    }

    [Fact]
    public void A_photo_cut_short_is_left_to_ImageSharp_which_decodes_what_is_there()
    {
        // The reduced decoder refuses a scan that ends early; ImageSharp fills in the rest, as it did before.
        using var folder = new TempFolder();
        byte[] whole = ImageFactory.Make(new ImageSpec { Width = 1600, Height = 1200, Format = "jpeg", Pattern = "photo" });
        byte[] cut = whole[..(whole.Length * 2 / 3)];
        Assert.Null(VlmCaption.Images.Jpeg.ScaledJpegDecoder.TryDecode(cut, 2, SixLabors.ImageSharp.Configuration.Default, long.MaxValue));
        var (facts, image) = Prepare(folder.Bytes("cut.jpg", cut), new ImagePreparationOptions { MaxImageSize = 800 });
        Assert.Equal((800, 600), (facts.Width, facts.Height));
        Assert.Equal((1600, 1200), (image.OriginalWidth, image.OriginalHeight));
    }

    [Fact]
    public void Cmyk_jpeg_and_16_bit_and_palette_png_decode()
    {
        using var folder = new TempFolder();
        Assert.Equal("red", Prepare(folder.Image("cmyk.jpg", new ImageSpec { Format = "jpeg", Cmyk = true })).Facts.Colour);
        Assert.Equal("red", Prepare(folder.Image("deep.png", new ImageSpec { Bits16 = true })).Facts.Colour);
        Assert.Equal("red", Prepare(folder.Image("pal.png", new ImageSpec { Palette = true })).Facts.Colour);
    }

    [Fact]
    public void Pass_through_sends_the_original_bytes_with_the_sniffed_type()
    {
        using var folder = new TempFolder();
        // A PNG named .jpg: the type comes from the bytes.
        string path = folder.Image("mislabelled.jpg", new ImageSpec { Width = 33, Height = 22 });
        var (facts, image) = Prepare(path, new ImagePreparationOptions { MaxImageSize = 0 });
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(new FileInfo(path).Length, image.ByteCount);
        Assert.Equal((33, 22), (facts.Width, facts.Height));
    }

    [Fact]
    public void Pixel_budget_is_checked_before_decoding()
    {
        using var folder = new TempFolder();
        string path = folder.Image("wide.png", new ImageSpec { Width = 2000, Height = 1000 });
        var e = Assert.Throws<CaptionException>(() => new ImagePreparer(new ImagePreparationOptions { MaxPixels = 1_000_000 }).Prepare(path));
        Assert.Equal("ImageTooLarge", e.ErrorId);
        Assert.Contains("2000x1000", e.Message);
    }

    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' }, "not an image VlmCaption can read")]
    public void Non_images_fail_with_a_named_reason(byte[] bytes, string reason)
    {
        using var folder = new TempFolder();
        string path = folder.Bytes("fake.png", bytes);
        var e = Assert.Throws<CaptionException>(() => new ImagePreparer(new ImagePreparationOptions()).Prepare(path));
        Assert.Equal("ImageDecodeFailed", e.ErrorId);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Truncated_png_fails_as_decode_error()
    {
        using var folder = new TempFolder();
        byte[] whole = ImageFactory.Make(new ImageSpec { Width = 300, Height = 300 });
        string path = folder.Bytes("cut.png", whole[..(whole.Length / 2)]);
        var e = Assert.Throws<CaptionException>(() => new ImagePreparer(new ImagePreparationOptions()).Prepare(path));
        Assert.Equal("ImageDecodeFailed", e.ErrorId);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, "image/jpeg")]
    [InlineData(new byte[] { 0, 0, 0, 0x1C, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'a', (byte)'v', (byte)'i', (byte)'f' }, "image/avif")]
    [InlineData(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' }, "image/gif")]
    [InlineData(new byte[] { 1, 2, 3 }, null)]
    public void Sniffer_names_formats_from_bytes(byte[] header, string? expected) =>
        Assert.Equal(expected, MediaTypeSniffer.Sniff(header));

    [Fact]
    public void Avif_without_pass_through_names_the_format()
    {
        using var folder = new TempFolder();
        string path = folder.Bytes("a.avif", [0, 0, 0, 0x1C, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'a', (byte)'v', (byte)'i', (byte)'f', 0, 0, 0, 0]);
        var e = Assert.Throws<CaptionException>(() => new ImagePreparer(new ImagePreparationOptions()).Prepare(path));
        Assert.Contains("image/avif", e.Message);
        Assert.Contains("-MaxImageSize 0", e.Message);
    }
}

public class ImageByteCapTests
{
    private static string Noise(TempFolder folder, string name, int width, int height, bool alpha)
    {
        var random = new Random(7);
        using var image = new Image<SixLabors.ImageSharp.PixelFormats.Rgba32>(width, height);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                foreach (ref SixLabors.ImageSharp.PixelFormats.Rgba32 pixel in rows.GetRowSpan(y))
                {
                    pixel = new SixLabors.ImageSharp.PixelFormats.Rgba32((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), alpha ? (byte)random.Next(256) : (byte)255);
                }
            }
        });
        string path = Path.Combine(folder.Path, name);
        image.SaveAsPng(path);
        return path;
    }

    [Fact]
    public void A_jpeg_over_the_byte_cap_is_encoded_again_smaller_until_it_fits()
    {
        using var folder = new TempFolder();
        string path = Noise(folder, "noise.png", 900, 600, alpha: false);
        PreparedImage image = new ImagePreparer(new ImagePreparationOptions { MaxImageBytes = 60_000 }).Prepare(path);
        Assert.Equal("image/jpeg", image.MediaType);
        Assert.InRange(image.ByteCount, 1, 60_000);
        Assert.True(image.Width < 900, "noise does not fit 60 kB at 900x600 even at quality 60, so it must be scaled down");
        Assert.InRange(image.Width * 2 - image.Height * 3, -3, 3);
        Assert.Null(image.Note);
    }

    [Fact]
    public void A_transparent_png_over_the_cap_is_made_smaller_then_flattened_with_a_note()
    {
        using var folder = new TempFolder();
        string path = Noise(folder, "alpha.png", 700, 700, alpha: true);
        PreparedImage small = new ImagePreparer(new ImagePreparationOptions { MaxImageBytes = 800_000 }).Prepare(path);
        Assert.Equal("image/png", small.MediaType);
        Assert.InRange(small.ByteCount, 1, 800_000);
        Assert.True(small.Width < 700);

        PreparedImage flat = new ImagePreparer(new ImagePreparationOptions { MaxImageBytes = 40_000 }).Prepare(path);
        Assert.Equal("image/jpeg", flat.MediaType);
        Assert.InRange(flat.ByteCount, 1, 40_000);
        Assert.Contains("white background", flat.Note);
    }

    [Fact]
    public void A_file_sent_untouched_over_the_cap_is_refused_and_an_odd_format_is_noted()
    {
        using var folder = new TempFolder();
        string path = Noise(folder, "big.png", 300, 300, alpha: false);
        var e = Assert.Throws<CaptionException>(() => new ImagePreparer(new ImagePreparationOptions { MaxImageSize = 0, MaxImageBytes = 10_000 }).Prepare(path));
        Assert.Equal("ImageTooLarge", e.ErrorId);
        Assert.Contains("-MaxImageBytes", e.Message);

        string bmp = folder.Image("a.bmp", new VlmCaption.TestServer.ImageSpec { Width = 8, Height = 8, Format = "bmp" });
        PreparedImage sent = new ImagePreparer(new ImagePreparationOptions { MaxImageSize = 0 }).Prepare(bmp);
        Assert.Equal("image/bmp", sent.MediaType);
        Assert.Contains("read only JPEG, PNG, WebP and GIF", sent.Note);
    }
}
