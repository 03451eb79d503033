using System;
using SixLabors.ImageSharp.PixelFormats;

namespace VlmCaption.Images.Jpeg
{
    /// <summary>
    /// JFIF's YCbCr to RGB (ITU T.871 section 7) from tables, as libjpeg does it: red's and blue's terms rounded to
    /// whole values, green's two in 16-bit fixed point and rounded once summed.
    /// </summary>
    internal static class YCbCr
    {
        private const int Shift = 16;
        private const int Half = 1 << (Shift - 1);

        // Every sum lies within -227 to 482 (luma 0 to 255 plus at most 1.772 x 128), so a table clamps it.
        private const int LimitOffset = 256;
        private static readonly byte[] Limit = MakeLimit();
        private static readonly int[] RedFromCr = Table(1.402, 1);
        private static readonly int[] BlueFromCb = Table(1.772, 1);
        private static readonly int[] GreenFromCb = Table(-0.344136, 1 << Shift);
        private static readonly int[] GreenFromCr = Table(-0.714136, 1 << Shift);

        /// <summary>Converts one row of samples to pixels; each shift says how many pixels (1, 2 or 4) a sample stands for.</summary>
        public static void ToRgb(ReadOnlySpan<byte> luma, int lumaShift, ReadOnlySpan<byte> blue, int blueShift, ReadOnlySpan<byte> red, int redShift, Span<Rgb24> pixels)
        {
            if (lumaShift == 0 && blueShift == 1 && redShift == 1)
            {
                ToRgbSharingChroma(luma, blue, red, pixels);
                return;
            }

            for (int x = 0; x < pixels.Length; x++)
            {
                int cb = blue[x >> blueShift];
                int cr = red[x >> redShift];
                pixels[x] = Pixel(luma[x >> lumaShift], RedFromCr[cr], (GreenFromCb[cb] + GreenFromCr[cr] + Half) >> Shift, BlueFromCb[cb]);
            }
        }

        /// <summary>4:2:0 and 4:2:2 at half size: each chroma sample's terms computed once for its two pixels.</summary>
        private static void ToRgbSharingChroma(ReadOnlySpan<byte> luma, ReadOnlySpan<byte> blue, ReadOnlySpan<byte> red, Span<Rgb24> pixels)
        {
            int x = 0;
            for (int pair = 0; x + 1 < pixels.Length; pair++, x += 2)
            {
                int cb = blue[pair], cr = red[pair];
                int r = RedFromCr[cr], g = (GreenFromCb[cb] + GreenFromCr[cr] + Half) >> Shift, b = BlueFromCb[cb];
                pixels[x] = Pixel(luma[x], r, g, b);
                pixels[x + 1] = Pixel(luma[x + 1], r, g, b);
            }

            if (x < pixels.Length)
            {
                int cb = blue[x >> 1], cr = red[x >> 1];
                pixels[x] = Pixel(luma[x], RedFromCr[cr], (GreenFromCb[cb] + GreenFromCr[cr] + Half) >> Shift, BlueFromCb[cb]);
            }
        }

        private static Rgb24 Pixel(int y, int red, int green, int blue) =>
            new Rgb24(Limit[y + red + LimitOffset], Limit[y + green + LimitOffset], Limit[y + blue + LimitOffset]);

        private static int[] Table(double factor, int unit)
        {
            var table = new int[256];
            for (int i = 0; i < 256; i++)
            {
                table[i] = (int)Math.Round(factor * (i - 128) * unit);
            }

            return table;
        }

        private static byte[] MakeLimit()
        {
            var limit = new byte[768];
            for (int i = 0; i < limit.Length; i++)
            {
                limit[i] = (byte)Math.Max(0, Math.Min(255, i - LimitOffset));
            }

            return limit;
        }
    }
}
