using BitMiracle.LibJpeg.Classic;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using VlmCaption.Images.Jpeg;
using VlmCaption.TestServer;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>
/// The reduced JPEG decoder against ImageSharp's full decode averaged over the same blocks, on files written by
/// two encoders (libjpeg's port for the layouts ImageSharp does not write), and on damaged and crafted files.
/// </summary>
public class ScaledJpegDecoderTests
{
    private static readonly Configuration Serial = new() { MaxDegreeOfParallelism = 1 };

    /// <summary>A photograph-like test picture (gradients, edges, texture) at an odd size, so edge blocks are partial.</summary>
    private static Image<Rgb24> Picture(int width = 203, int height = 141)
    {
        using var png = Image.Load<Rgb24>(ImageFactory.Make(new ImageSpec { Width = width, Height = height, Pattern = "photo" }));
        return png.Clone();
    }

    /// <summary>
    /// Encodes with libjpeg (BitMiracle's port): YCbCr with the sampling factors given per component ("2x1,1x1,1x1"),
    /// or "grey", "rgb" (with Adobe's marker) or "cmyk".
    /// </summary>
    internal static byte[] LibJpeg(Image<Rgb24> picture, string sampling, int restartInterval = 0, bool optimize = false, bool progressive = false)
    {
        using var output = new MemoryStream();
        var compress = new jpeg_compress_struct();
        compress.jpeg_stdio_dest(output);
        if (sampling.Contains('x') && !progressive)
        {
            // The port downsamples only 2x2 itself, so the test makes the coefficients and libjpeg codes them,
            // taking the frame's parameters from a plain file of the same picture.
            var source = new jpeg_decompress_struct();
            source.jpeg_stdio_src(new MemoryStream(Scanlines(picture, "ycbcr", 0, false, false)));
            source.jpeg_read_header(true);
            source.jpeg_read_coefficients();
            source.jpeg_copy_critical_parameters(compress);
            string[] factors = sampling.Split(',');
            for (int c = 0; c < 3; c++)
            {
                compress.Component_info[c].H_samp_factor = factors[c][0] - '0';
                compress.Component_info[c].V_samp_factor = factors[c][2] - '0';
            }

            compress.jpeg_add_quant_table(0, Enumerable.Repeat(3, 64).ToArray(), 100, true);
            compress.jpeg_add_quant_table(1, Enumerable.Repeat(5, 64).ToArray(), 100, true);
            compress.Restart_interval = restartInterval;
            compress.Optimize_coding = optimize;
            compress.jpeg_write_coefficients(Coefficients(compress, picture));
            compress.jpeg_finish_compress();
            return output.ToArray();
        }

        return Scanlines(picture, sampling.Contains('x') ? "ycbcr" : sampling, restartInterval, optimize, progressive);
    }

    /// <summary>libjpeg's own path from pixels: 2x2 sampled YCbCr, grey, RGB or CMYK.</summary>
    private static byte[] Scanlines(Image<Rgb24> picture, string kind, int restartInterval, bool optimize, bool progressive)
    {
        bool grey = kind == "grey", cmyk = kind == "cmyk";
        using var output = new MemoryStream();
        var compress = new jpeg_compress_struct();
        compress.jpeg_stdio_dest(output);
        compress.Image_width = picture.Width;
        compress.Image_height = picture.Height;
        compress.Input_components = grey ? 1 : cmyk ? 4 : 3;
        compress.In_color_space = grey ? J_COLOR_SPACE.JCS_GRAYSCALE : cmyk ? J_COLOR_SPACE.JCS_CMYK : J_COLOR_SPACE.JCS_RGB;
        compress.jpeg_set_defaults();
        compress.jpeg_set_quality(90, true);
        if (kind == "rgb")
        {
            compress.jpeg_set_colorspace(J_COLOR_SPACE.JCS_RGB);
        }

        compress.Restart_interval = restartInterval;
        compress.Optimize_coding = optimize;
        if (progressive)
        {
            compress.jpeg_simple_progression();
        }

        compress.jpeg_start_compress(true);
        var row = new byte[1][];
        var all = new Rgb24[picture.Width * picture.Height];
        picture.CopyPixelDataTo(all);
        while (compress.Next_scanline < picture.Height)
        {
            Rgb24[] pixels = all[(compress.Next_scanline * picture.Width)..((compress.Next_scanline + 1) * picture.Width)];
            row[0] = grey ? pixels.Select(p => (byte)((p.R * 299 + p.G * 587 + p.B * 114) / 1000)).ToArray()
                : cmyk ? pixels.SelectMany(p => new[] { (byte)(255 - p.R), (byte)(255 - p.G), (byte)(255 - p.B), (byte)0 }).ToArray()
                : pixels.SelectMany(p => new[] { p.R, p.G, p.B }).ToArray();
            compress.jpeg_write_scanlines(row, 1);
        }

        compress.jpeg_finish_compress();
        return output.ToArray();
    }

    /// <summary>
    /// Each component's quantized DCT coefficients (T.81 A.3.3, natural order): JFIF YCbCr averaged down to the
    /// component's sampling, edge pixels repeated into the padding, a plain 8x8 forward DCT.
    /// </summary>
    private static jvirt_array<JBLOCK>[] Coefficients(jpeg_compress_struct compress, Image<Rgb24> picture)
    {
        jpeg_component_info[] components = compress.Component_info;
        int maxH = components.Take(3).Max(c => c.H_samp_factor), maxV = components.Take(3).Max(c => c.V_samp_factor);
        int mcusAcross = (picture.Width + (8 * maxH) - 1) / (8 * maxH), mcusDown = (picture.Height + (8 * maxV) - 1) / (8 * maxV);
        int[] quantization = { 3, 5, 5 };
        double Sample(int c, int x, int y)
        {
            Rgb24 p = picture[Math.Min(x, picture.Width - 1), Math.Min(y, picture.Height - 1)];
            return c switch
            {
                0 => (0.299 * p.R) + (0.587 * p.G) + (0.114 * p.B),
                1 => 128 - (0.168736 * p.R) - (0.331264 * p.G) + (0.5 * p.B),
                _ => 128 + (0.5 * p.R) - (0.418688 * p.G) - (0.081312 * p.B),
            };
        }

        var arrays = new jvirt_array<JBLOCK>[3];
        for (int c = 0; c < 3; c++)
        {
            int h = components[c].H_samp_factor, v = components[c].V_samp_factor, across = maxH / h, down = maxV / v;
            int blocksAcross = mcusAcross * h, blocksDown = mcusDown * v;
            arrays[c] = jpeg_common_struct.CreateBlocksArray(blocksAcross, blocksDown);
            arrays[c].ErrorProcessor = compress;
            var samples = new double[64];
            for (int by = 0; by < blocksDown; by++)
            {
                JBLOCK[] row = arrays[c].Access(by, 1)[0];
                for (int bx = 0; bx < blocksAcross; bx++)
                {
                    for (int i = 0; i < 64; i++)
                    {
                        double sum = 0;
                        for (int dy = 0; dy < down; dy++)
                        {
                            for (int dx = 0; dx < across; dx++)
                            {
                                sum += Sample(c, (((bx * 8) + (i % 8)) * across) + dx, (((by * 8) + (i / 8)) * down) + dy);
                            }
                        }

                        samples[i] = (sum / (across * down)) - 128;
                    }

                    for (int k = 0; k < 64; k++)
                    {
                        int u = k % 8, w = k / 8;
                        double total = 0;
                        for (int i = 0; i < 64; i++)
                        {
                            total += samples[i] * Math.Cos(((2 * (i % 8)) + 1) * u * Math.PI / 16) * Math.Cos(((2 * (i / 8)) + 1) * w * Math.PI / 16);
                        }

                        double scale = (u == 0 ? Math.Sqrt(0.5) : 1) * (w == 0 ? Math.Sqrt(0.5) : 1) / 4;
                        row[bx][k] = (short)Math.Round(total * scale / quantization[c]);
                    }
                }
            }
        }

        return arrays;
    }

    private static byte[] ImageSharpJpeg(Image<Rgb24> picture, JpegColorType colorType)
    {
        using var output = new MemoryStream();
        picture.SaveAsJpeg(output, new JpegEncoder { Quality = 90, ColorType = colorType });
        return output.ToArray();
    }

    /// <summary>Decodes at each scale and holds the result to ImageSharp's full decode averaged over scale x scale pixels.</summary>
    private static void AssertDecodesLikeImageSharp(byte[] file, double eighthTolerance = 3.5)
    {
        using Image<Rgb24> full = Image.Load<Rgb24>(file);
        foreach (int scale in new[] { 2, 4, 8 })
        {
            using Image<Rgb24>? reduced = ScaledJpegDecoder.TryDecode(file, scale, Serial, long.MaxValue);
            Assert.NotNull(reduced);
            Assert.Equal(((full.Width + scale - 1) / scale, (full.Height + scale - 1) / scale), (reduced!.Width, reduced.Height));
            double difference = MeanDifference(reduced, full, scale);

            // Measured 0.4 to 2.4 for these files; a block misplaced, a colour swapped or a table misread gives 10 or more.
            Assert.True(difference < (scale == 8 ? eighthTolerance : 3.5), $"scale {scale}: mean difference {difference:0.00} per channel");
        }
    }

    /// <summary>The mean absolute difference per channel between the reduced image and the mean of each block of the full one (whole blocks only).</summary>
    private static double MeanDifference(Image<Rgb24> reduced, Image<Rgb24> full, int scale)
    {
        double sum = 0;
        long count = 0;
        for (int y = 0; y < full.Height / scale; y++)
        {
            for (int x = 0; x < full.Width / scale; x++)
            {
                int r = 0, g = 0, b = 0;
                for (int dy = 0; dy < scale; dy++)
                {
                    for (int dx = 0; dx < scale; dx++)
                    {
                        Rgb24 p = full[(x * scale) + dx, (y * scale) + dy];
                        r += p.R;
                        g += p.G;
                        b += p.B;
                    }
                }

                Rgb24 q = reduced[x, y];
                int n = scale * scale;
                sum += Math.Abs((r / (double)n) - q.R) + Math.Abs((g / (double)n) - q.G) + Math.Abs((b / (double)n) - q.B);
                count += 3;
            }
        }

        return sum / count;
    }

    [Theory]
    // At 1/8, a 4:4:0 or 4:1:1 chroma block (8x16 or 32x8 pixels) gives one sample repeated over 2 or 4 pixels
    // in one direction: measured 4.6 and 6.6 there, against 0.4 to 2.4 everywhere else.
    [InlineData("2x2,1x1,1x1", 0, false, 3.5)] // 4:2:0, what cameras and phones write
    [InlineData("1x1,1x1,1x1", 5, true, 3.5)]  // 4:4:4 with restart markers and optimised tables
    [InlineData("2x1,1x1,1x1", 1, false, 3.5)] // 4:2:2, a restart after every MCU
    [InlineData("1x2,1x1,1x1", 7, true, 6)]    // 4:4:0
    [InlineData("4x1,1x1,1x1", 2, false, 8)]   // 4:1:1
    [InlineData("2x2,1x1,1x1", 3, true, 3.5)]
    [InlineData("grey", 0, false, 3.5)]
    [InlineData("grey", 3, true, 3.5)]
    public void Libjpeg_layouts_decode_like_a_full_decode_averaged(string sampling, int restartInterval, bool optimize, double eighthTolerance)
    {
        using Image<Rgb24> picture = Picture();
        AssertDecodesLikeImageSharp(LibJpeg(picture, sampling, restartInterval, optimize), eighthTolerance);
    }

    [Theory]
    [InlineData(JpegColorType.YCbCrRatio420)]
    [InlineData(JpegColorType.YCbCrRatio444)]
    [InlineData(JpegColorType.Luminance)]
    public void ImageSharp_files_decode_like_a_full_decode_averaged(JpegColorType colorType)
    {
        using Image<Rgb24> picture = Picture(322, 177);
        AssertDecodesLikeImageSharp(ImageSharpJpeg(picture, colorType));
    }

    [Fact]
    public void Layouts_it_does_not_take_are_left_to_ImageSharp()
    {
        using Image<Rgb24> picture = Picture();
        Assert.Null(ScaledJpegDecoder.TryDecode(LibJpeg(picture, "2x2,1x1,1x1", progressive: true), 2, Serial, long.MaxValue));
        Assert.Null(ScaledJpegDecoder.TryDecode(LibJpeg(picture, "rgb"), 2, Serial, long.MaxValue));
        Assert.Null(ScaledJpegDecoder.TryDecode(LibJpeg(picture, "cmyk"), 2, Serial, long.MaxValue));
        Assert.Null(ScaledJpegDecoder.TryDecode(ImageFactory.Make(new ImageSpec { Format = "png" }), 2, Serial, long.MaxValue));
    }

    [Fact]
    public void A_file_cut_anywhere_is_left_to_ImageSharp_or_decoded_whole()
    {
        using Image<Rgb24> picture = Picture();
        byte[] whole = LibJpeg(picture, "2x2,1x1,1x1", restartInterval: 4);
        int scanStart = FindScan(whole);
        for (int length = 0; length < whole.Length; length += 7)
        {
            using Image<Rgb24>? image = ScaledJpegDecoder.TryDecode(whole[..length], 2, Serial, long.MaxValue);

            // Cut inside the scan's data (before its last two bytes of padding and end marker): never a partial picture.
            if (length > scanStart && length < whole.Length - 4)
            {
                Assert.Null(image);
            }
        }
    }

    [Fact]
    public void A_wrong_restart_marker_is_left_to_ImageSharp()
    {
        using Image<Rgb24> picture = Picture();
        byte[] file = LibJpeg(picture, "2x2,1x1,1x1", restartInterval: 2);
        int at = Array.FindIndex(file, FindScan(file), b => b == 0xFF);
        while (file[at + 1] == 0x00)
        {
            at = Array.IndexOf(file, (byte)0xFF, at + 2);
        }

        Assert.Equal(0xD0, file[at + 1]);
        Assert.NotNull(ScaledJpegDecoder.TryDecode(file, 2, Serial, long.MaxValue));
        file[at + 1] = 0xD3;
        Assert.Null(ScaledJpegDecoder.TryDecode(file, 2, Serial, long.MaxValue));
    }

    [Fact]
    public void Damaged_bytes_never_throw_and_a_result_has_the_declared_size()
    {
        using Image<Rgb24> picture = Picture(96, 64);
        byte[][] files = { LibJpeg(picture, "2x2,1x1,1x1", restartInterval: 3), LibJpeg(picture, "grey", optimize: true), ImageSharpJpeg(picture, JpegColorType.YCbCrRatio444) };
        var random = new Random(20261201);
        int decoded = 0, refused = 0;
        for (int i = 0; i < 3000; i++)
        {
            byte[] file = (byte[])files[i % files.Length].Clone();
            for (int n = random.Next(1, 4); n > 0; n--)
            {
                file[random.Next(2, file.Length)] = (byte)random.Next(256);
            }

            using Image<Rgb24>? image = ScaledJpegDecoder.TryDecode(file, 1 << random.Next(1, 4), Serial, 1_000_000);
            if (image is null)
            {
                refused++;
            }
            else
            {
                decoded++;
                Assert.True(image.Width * image.Height <= 1_000_000);
            }
        }

        // Most damage to the entropy-coded data goes unseen (any bits decode to something), a damaged header or table does not.
        Assert.True(decoded > 0 && refused > 0, $"{decoded} decoded, {refused} refused");
    }

    [Fact]
    public void A_scan_that_ends_long_before_its_declared_size_is_given_up_in_its_first_row()
    {
        using Image<Rgb24> picture = Picture(64, 48);
        byte[] file = LibJpeg(picture, "2x2,1x1,1x1");
        int frame = Array.FindIndex(file, 2, b => b == 0xFF);
        while (file[frame + 1] != 0xC0)
        {
            frame += 2 + ((file[frame + 2] << 8) | file[frame + 3]);
        }

        // The header claims 10000 x 9999 (625 rows of 16-pixel blocks); the data holds 64 x 48 and stops.
        file[frame + 5] = 0x27;
        file[frame + 6] = 0x0F;
        file[frame + 7] = 0x27;
        file[frame + 8] = 0x10;
        byte[] cut = file[..(FindScan(file) + 64)];
        using Image<Rgb24>? image = ScaledJpegDecoder.TryDecode(cut, 8, Serial, long.MaxValue, out int rows);
        Assert.Null(image);
        Assert.Equal(1, rows);
    }

    [Fact]
    public void A_frame_declaring_more_pixels_than_allowed_is_refused_before_anything_is_allocated()
    {
        using Image<Rgb24> picture = Picture(64, 48);
        byte[] file = LibJpeg(picture, "2x2,1x1,1x1");
        int frame = Array.FindIndex(file, 2, b => b == 0xFF) ;
        while (file[frame + 1] != 0xC0)
        {
            frame += 2 + ((file[frame + 2] << 8) | file[frame + 3]);
        }

        // 65000 x 65000 pixels: 4.2 GP.
        file[frame + 5] = file[frame + 7] = 0xFD;
        file[frame + 6] = file[frame + 8] = 0xE8;
        Assert.Null(ScaledJpegDecoder.TryDecode(file, 2, Serial, 100_000_000));
    }

    [Fact]
    public void A_huffman_table_with_more_codes_than_fit_is_refused()
    {
        // Three codes of length 1.
        var table = new byte[16 + 3];
        table[0] = 3;
        Assert.Null(JpegHuffmanTable.Build(table, 0, 16, 3));
        table[0] = 2;
        Assert.NotNull(JpegHuffmanTable.Build(table, 0, 16, 2));
    }

    private static int FindScan(byte[] file)
    {
        int at = 2;
        while (file[at + 1] != 0xDA)
        {
            at += 2 + ((file[at + 2] << 8) | file[at + 3]);
        }

        return at + 2 + ((file[at + 2] << 8) | file[at + 3]);
    }
}
