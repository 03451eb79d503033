using VlmCaption.Images;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>
/// Animated WebP containers that lie: each is refused, alone, with what is wrong, before any frame is decoded.
/// (Whole animations written by libwebp are sent as frames in Clips.Tests.ps1.)
/// </summary>
public class HostileWebpTests
{
    private static CaptionException Refused(byte[] file)
    {
        using var folder = new TempFolder();
        string path = folder.Bytes("animated.webp", file);
        return Assert.Throws<CaptionException>(() => new ImagePreparer(new ImagePreparationOptions()).Prepare(path));
    }

    [Fact]
    public void A_canvas_over_the_pixel_budget_is_refused_from_its_header_without_allocating()
    {
        byte[] file = Container(50000, 50000, Frame(0, 0, 10, 10, 16));
        long before = GC.GetTotalAllocatedBytes(precise: true);
        CaptionException e = Refused(file);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal("ImageTooLarge", e.ErrorId);
        Assert.Contains("50000x50000", e.Message);
        Assert.True(allocated < 16 * 1024 * 1024, $"refusing it allocated {allocated / 1048576.0:0.0} MB");
    }

    [Fact]
    public void A_frame_outside_the_canvas_is_refused()
    {
        CaptionException e = Refused(Container(64, 48, Frame(0, 0, 64, 48, 16), Frame(40, 40, 30, 30, 16)));
        Assert.Equal("ImageDecodeFailed", e.ErrorId);
        Assert.Contains("outside its 64x48 canvas", e.Message);
    }

    [Fact]
    public void An_animation_with_no_frame_is_refused()
    {
        CaptionException e = Refused(Container(64, 48));
        Assert.Equal("ImageDecodeFailed", e.ErrorId);
        Assert.Contains("holds no frame", e.Message);
    }

    [Fact]
    public void A_chunk_that_says_it_runs_past_the_file_is_refused_as_cut_short()
    {
        byte[] file = Container(64, 48, Frame(0, 0, 64, 48, 16));
        byte[] cut = file[..(file.Length - 6)];
        CaptionException e = Refused(cut);
        Assert.Equal("ImageDecodeFailed", e.ErrorId);
        Assert.Contains("cut short", e.Message);
    }

    [Fact]
    public void A_frame_whose_picture_is_not_webp_is_a_decode_error()
    {
        CaptionException e = Refused(Container(64, 48, Frame(0, 0, 64, 48, 16)));
        Assert.Equal("ImageDecodeFailed", e.ErrorId);
        Assert.Contains("animated WebP", e.Message);
    }

    [Fact]
    public void Many_frames_are_decoded_only_within_ten_times_the_pixel_budget()
    {
        // Twenty real 4x4 frames of 100 ms; a budget of 16 pixels lets ten canvases' worth be decoded.
        using var still = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgba32>(4, 4, new SixLabors.ImageSharp.PixelFormats.Rgba32(255, 0, 0, 255));
        using var encoded = new MemoryStream();
        still.Save(encoded, new SixLabors.ImageSharp.Formats.Webp.WebpEncoder { FileFormat = SixLabors.ImageSharp.Formats.Webp.WebpFileFormatType.Lossless });
        byte[] file = encoded.ToArray();
        int at = 12;
        while (System.Text.Encoding.ASCII.GetString(file, at, 4) != "VP8L")
        {
            at += 8 + BitConverter.ToInt32(file, at + 4);
        }

        byte[] picture = file[at..(at + 8 + BitConverter.ToInt32(file, at + 4))];
        byte[] animation = Container(4, 4, Enumerable.Range(0, 20).Select(_ => Anmf(4, 4, picture)).ToArray());
        using var folder = new TempFolder();
        string path = folder.Bytes("many.webp", animation);

        PreparedImage clip = new ImagePreparer(new ImagePreparationOptions { MaxPixels = 16, ClipFrames = 4, MaxImageSize = 64, MaxImageBytes = 1_000_000 }).Prepare(path);

        Assert.Equal(1.0, clip.ClipSeconds);
        Assert.Equal(4, clip.Frames.Count);
    }

    private static byte[] Anmf(int width, int height, byte[] pictureChunk)
    {
        var fields = new byte[16];
        U24(fields, 6, width - 1);
        U24(fields, 9, height - 1);
        U24(fields, 12, 100);
        return Chunk("ANMF", fields.Concat(pictureChunk).ToArray());
    }

    /// <summary>RIFF, WEBP, a VP8X chunk with the animation flag and the canvas, an ANIM chunk, then the frames.</summary>
    private static byte[] Container(int width, int height, params byte[][] frames)
    {
        var body = new List<byte>();
        body.AddRange("WEBP"u8.ToArray());
        var vp8x = new byte[10];
        vp8x[0] = 0x02;
        U24(vp8x, 4, width - 1);
        U24(vp8x, 7, height - 1);
        body.AddRange(Chunk("VP8X", vp8x));
        body.AddRange(Chunk("ANIM", new byte[6]));
        foreach (byte[] frame in frames)
        {
            body.AddRange(frame);
        }

        var file = new List<byte>("RIFF"u8.ToArray());
        file.AddRange(BitConverter.GetBytes(body.Count));
        file.AddRange(body);
        return file.ToArray();
    }

    /// <summary>An ANMF chunk: where the frame lies and 100 ms, then a VP8L chunk of junk bytes.</summary>
    private static byte[] Frame(int x, int y, int width, int height, int junk)
    {
        var fields = new byte[16];
        U24(fields, 0, x / 2);
        U24(fields, 3, y / 2);
        U24(fields, 6, width - 1);
        U24(fields, 9, height - 1);
        U24(fields, 12, 100);
        var payload = new List<byte>(fields);
        payload.AddRange(Chunk("VP8L", Enumerable.Repeat((byte)0x5a, junk).ToArray()));
        return Chunk("ANMF", payload.ToArray());
    }

    private static byte[] Chunk(string name, byte[] payload)
    {
        var chunk = new List<byte>(System.Text.Encoding.ASCII.GetBytes(name));
        chunk.AddRange(BitConverter.GetBytes(payload.Length));
        chunk.AddRange(payload);
        if (payload.Length % 2 == 1)
        {
            chunk.Add(0);
        }

        return chunk.ToArray();
    }

    private static void U24(byte[] bytes, int offset, int value)
    {
        bytes[offset] = (byte)value;
        bytes[offset + 1] = (byte)(value >> 8);
        bytes[offset + 2] = (byte)(value >> 16);
    }
}
