using System.Buffers.Binary;
using System.Text;
using VlmCaption.Images;
using VlmCaption.TestServer;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>Files a scraper leaves behind: each is prepared correctly or refused with a clear error, cheaply.</summary>
public class HostileImageTests
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

    private static CaptionException Refused(string path, ImagePreparationOptions? options = null) =>
        Assert.Throws<CaptionException>(() => new ImagePreparer(options ?? new ImagePreparationOptions()).Prepare(path));

    [Fact]
    public void Decompression_bomb_is_refused_from_its_header_without_allocating()
    {
        using var folder = new TempFolder();
        string path = folder.Bytes("bomb.png", PngDeclaring(50000, 50000));
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
