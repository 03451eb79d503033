using VlmCaption.Images;
using VlmCaption.TestServer;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>Files a scraper leaves behind: each is prepared correctly or refused with a clear error, cheaply.</summary>
public class HostileImageTests
{
    private static CaptionException Refused(string path, ImagePreparationOptions? options = null) =>
        Assert.Throws<CaptionException>(() => new ImagePreparer(options ?? new ImagePreparationOptions()).Prepare(path));

    [Fact]
    public void Decompression_bomb_is_refused_from_its_header_without_allocating()
    {
        using var folder = new TempFolder();
        string path = folder.Bytes("bomb.png", ImageFactory.PngDeclaring(50000, 50000));
        long before = GC.GetTotalAllocatedBytes(precise: true);
        CaptionException e = Refused(path);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal("ImageTooLarge", e.ErrorId);
        Assert.Contains("50000x50000", e.Message);
        Assert.True(allocated < 16 * 1024 * 1024, $"refusing the bomb allocated {allocated / 1048576.0:0.0} MB");
    }

    [Fact]
    public void Thin_strip_keeps_at_least_one_pixel_across()
    {
        using var folder = new TempFolder();
        PreparedImage image = new ImagePreparer(new ImagePreparationOptions()).Prepare(folder.Image("strip.png", new ImageSpec { Width = 1, Height = 60000 }));
        Assert.Equal((1, 1536), (image.Width, image.Height));
    }

    [Fact]
    public void Palette_png_with_transparency_stays_png()
    {
        using var folder = new TempFolder();
        PreparedImage image = new ImagePreparer(new ImagePreparationOptions()).Prepare(folder.Image("pal.png", new ImageSpec { Palette = true, Alpha = true }));
        Assert.Equal("image/png", image.MediaType);
    }

    [Fact]
    public void Truncated_jpeg_is_a_decode_error_or_decodes_what_is_there()
    {
        using var folder = new TempFolder();
        byte[] whole = ImageFactory.Make(new ImageSpec { Width = 400, Height = 300, Format = "jpeg" });
        string path = folder.Bytes("cut.jpg", whole[..(whole.Length / 3)]);
        try
        {
            PreparedImage image = new ImagePreparer(new ImagePreparationOptions()).Prepare(path);
            Assert.Equal((400, 300), (image.Width, image.Height));
        }
        catch (CaptionException e)
        {
            Assert.Equal("ImageDecodeFailed", e.ErrorId);
        }
    }

    [Fact]
    public void Two_hundred_megabyte_file_is_refused_without_reading_it_whole()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "huge.jpg");
        using (var stream = File.Create(path))
        {
            stream.Write([0xFF, 0xD8, 0xFF, 0xE0]);
            stream.SetLength(200L * 1024 * 1024);
        }

        long before = GC.GetTotalAllocatedBytes(precise: true);
        CaptionException e = Refused(path);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal("ImageDecodeFailed", e.ErrorId);
        Assert.True(allocated < 32 * 1024 * 1024, $"refusing a 200 MB file allocated {allocated / 1048576.0:0.0} MB");
        Assert.Equal("ImageTooLarge", Refused(path, new ImagePreparationOptions { MaxImageSize = 0 }).ErrorId);
    }
}
