using System;
using System.Buffers.Binary;
using System.Numerics;

namespace VlmCaption.Images.Jpeg
{
    /// <summary>
    /// The inverse DCT of an 8x8 JPEG block to 4, 2 or 1 pixels a side from its lowest frequencies, as libjpeg
    /// scales on decode: a block reduced to n pixels uses its n x n lowest coefficients in an n-point transform
    /// with the 8-point transform's normalisation (so a block's mean is kept), which is a quarter of the work
    /// at half size and needs no downscaling afterwards.
    /// </summary>
    internal static class ScaledIdct
    {
        // The 4-point basis c(u) cos((2x + 1) u pi / 8) / 2, c(0) = 1 / sqrt 2, as a vector over x for each u.
        private static readonly Vector4 Basis0 = Make(0);
        private static readonly Vector4 Basis1 = Make(1);
        private static readonly Vector4 Basis2 = Make(2);
        private static readonly Vector4 Basis3 = Make(3);

        // Its values: the even rows are +-Even, the odd ones mix Odd1 and Odd3.
        private static readonly float Even = (float)(Math.Sqrt(0.5) / 2);
        private static readonly float Odd1 = (float)(Math.Cos(Math.PI / 8) / 2);
        private static readonly float Odd3 = (float)(Math.Cos(3 * Math.PI / 8) / 2);

        /// <summary>
        /// Writes the <paramref name="side"/> x <paramref name="side"/> pixels (side 1, 2 or 4) of a block whose
        /// coefficients are in natural order, dequantized and nonzero only up to <paramref name="lastRow"/> and
        /// <paramref name="lastColumn"/> (below the side), level-shifted and clamped; clears those coefficients.
        /// </summary>
        public static void Transform(int[] block, int lastRow, int lastColumn, int side, byte[] output, int offset, int stride)
        {
            if (lastRow == 0 && lastColumn == 0)
            {
                byte value = Clamp((block[0] / 8f) + 128.5f);
                block[0] = 0;
                for (int y = 0; y < side; y++)
                {
                    output.AsSpan(offset + (y * stride), side).Fill(value);
                }
            }
            else if (side == 2)
            {
                // Every 2-point basis value is +-1/(2 sqrt 2), so each pixel is a signed sum of four coefficients / 8.
                float a = block[0], b = block[1], c = block[8], d = block[9];
                block[0] = block[1] = block[8] = block[9] = 0;
                output[offset] = Clamp(((a + b + c + d) / 8f) + 128.5f);
                output[offset + 1] = Clamp(((a - b + c - d) / 8f) + 128.5f);
                output[offset + stride] = Clamp(((a + b - c - d) / 8f) + 128.5f);
                output[offset + stride + 1] = Clamp(((a - b - c + d) / 8f) + 128.5f);
            }
            else
            {
                Transform4(block, lastRow, output, offset, stride);
            }
        }

        private static void Transform4(int[] block, int lastRow, byte[] output, int offset, int stride)
        {
            // Across each row of coefficients, then down the columns by the 4-point butterfly on whole rows.
            Vector4 row0 = Row(block, 0);
            Vector4 row1 = lastRow >= 1 ? Row(block, 8) : Vector4.Zero;
            Vector4 row2 = lastRow >= 2 ? Row(block, 16) : Vector4.Zero;
            Vector4 row3 = lastRow >= 3 ? Row(block, 24) : Vector4.Zero;

            var shift = new Vector4(128.5f);
            Vector4 even0 = (Even * (row0 + row2)) + shift;
            Vector4 even1 = (Even * (row0 - row2)) + shift;
            Vector4 odd0 = (Odd1 * row1) + (Odd3 * row3);
            Vector4 odd1 = (Odd3 * row1) - (Odd1 * row3);
            Store(even0 + odd0, output, offset);
            Store(even1 + odd1, output, offset + stride);
            Store(even1 - odd1, output, offset + (2 * stride));
            Store(even0 - odd0, output, offset + (3 * stride));
        }

        private static Vector4 Row(int[] block, int at)
        {
            int a = block[at], b = block[at + 1], c = block[at + 2], d = block[at + 3];
            block[at] = block[at + 1] = block[at + 2] = block[at + 3] = 0;
            return (a * Basis0) + (b * Basis1) + (c * Basis2) + (d * Basis3);
        }

        private static void Store(Vector4 values, byte[] output, int at)
        {
            values = Vector4.Clamp(values, Vector4.Zero, new Vector4(255f));
            uint packed = (uint)values.X | ((uint)values.Y << 8) | ((uint)values.Z << 16) | ((uint)values.W << 24);
            BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(at, 4), packed);
        }

        private static byte Clamp(float value) => value <= 0f ? (byte)0 : value >= 255f ? (byte)255 : (byte)value;

        private static Vector4 Make(int u)
        {
            double c = u == 0 ? Math.Sqrt(0.5) : 1.0;
            float At(int x) => (float)(c * Math.Cos((((2 * x) + 1) * u * Math.PI) / 8) / 2);
            return new Vector4(At(0), At(1), At(2), At(3));
        }
    }
}
