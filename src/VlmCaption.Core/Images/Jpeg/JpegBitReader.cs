using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace VlmCaption.Images.Jpeg
{
    /// <summary>
    /// Where the reading of a JPEG scan's entropy-coded bits stands (ITU T.81 F.2.2.5): stuffed 0xFF 0x00 pairs
    /// are one 0xFF, and a marker ends the data, after which zeros are read. Reading into those zeros means the
    /// data was cut short, which <see cref="Overran"/> tells, so a damaged file is left to the lenient decoder.
    /// The block decoder copies the fields into locals and refills them with <see cref="Refill"/>, which the JIT
    /// inlines, so the hot loop keeps them in registers.
    /// </summary>
    internal struct JpegBitReader
    {
        /// <summary>The next bits, most significant first.</summary>
        public ulong Bits;

        /// <summary>How many bits of <see cref="Bits"/> are the file's or padding.</summary>
        public int Count;

        /// <summary>The next byte to read.</summary>
        public int Position;

        /// <summary>Zero bytes added after a marker or the end of the file.</summary>
        public int Padding;

        public JpegBitReader(int position)
        {
            Bits = 0;
            Count = 0;
            Position = position;
            Padding = 0;
        }

        /// <summary>True once bits past the end of the scan's data were taken.</summary>
        public readonly bool Overran => Padding * 8 > Count;

        /// <summary>Tops the bits up to at least 57.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Refill(byte[] data, ref ulong bits, ref int count, ref int position, ref int padding)
        {
            // Mostly eight bytes at once: entropy-coded data holds a 0xFF (a stuffed byte or a marker) about once in 256.
            if (padding == 0 && position <= data.Length - 8)
            {
                ulong word = BinaryPrimitives.ReadUInt64BigEndian(data.AsSpan(position, 8));
                ulong inverted = ~word;
                if (((inverted - 0x0101010101010101UL) & ~inverted & 0x8080808080808080UL) == 0)
                {
                    int take = (64 - count) >> 3;
                    bits |= (word >> (64 - (8 * take))) << (64 - count - (8 * take));
                    position += take;
                    count += 8 * take;
                    return;
                }
            }

            while (count <= 56)
            {
                int value = 0;
                if (padding > 0 || position >= data.Length)
                {
                    padding++;
                }
                else if (data[position] != 0xFF)
                {
                    value = data[position++];
                }
                else if (position + 1 < data.Length && data[position + 1] == 0x00)
                {
                    value = 0xFF;
                    position += 2;
                }
                else
                {
                    // A marker (or 0xFF fill bytes before one): the scan's data ends here.
                    padding++;
                }

                bits |= (ulong)value << (56 - count);
                count += 8;
            }
        }

        /// <summary>The <paramref name="size"/> (1 to 16) bits at the top of <paramref name="bits"/> as a signed coefficient (T.81 F.2.2.1, EXTEND).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Extend(ulong bits, int size)
        {
            int value = (int)(bits >> (64 - size));
            return value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
        }

        /// <summary>
        /// Moves past the restart marker that must follow the interval just decoded; false when the interval's
        /// data was cut short, ran on past its padding, or another marker stands there.
        /// </summary>
        public bool Restart(byte[] data, int expected)
        {
            // What is left of the bits must be the interval's last byte's padding, and the marker must be next.
            if (Overran || Count - (Padding * 8) >= 8)
            {
                return false;
            }

            while (Position + 1 < data.Length && data[Position] == 0xFF && data[Position + 1] == 0xFF)
            {
                Position++;
            }

            if (Position + 1 >= data.Length || data[Position] != 0xFF || data[Position + 1] != 0xD0 + expected)
            {
                return false;
            }

            Position += 2;
            Bits = 0;
            Count = 0;
            Padding = 0;
            return true;
        }
    }
}
