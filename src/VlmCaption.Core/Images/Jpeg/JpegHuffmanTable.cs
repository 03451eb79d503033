namespace VlmCaption.Images.Jpeg
{
    /// <summary>
    /// One Huffman table of a JPEG (ITU T.81 annex C): a lookup of the first 9 bits for the short codes that
    /// make up nearly all of a photo's data, and the canonical code limits for the longer ones.
    /// </summary>
    internal sealed class JpegHuffmanTable
    {
        /// <summary>Bits looked up at once.</summary>
        public const int FastBits = 9;

        /// <summary>For each value of the next 9 bits: (code length &lt;&lt; 8) | symbol, or 0 when the code is longer.</summary>
        public readonly ushort[] Fast = new ushort[1 << FastBits];

        /// <summary>
        /// For an AC table, for each value of the next 9 bits whose code and coefficient bits both fit in them:
        /// (coefficient &lt;&lt; 16) | (zero run &lt;&lt; 8) | bits used; else 0. Most of a photo's coefficients are found so.
        /// </summary>
        public readonly int[] FastAc = new int[1 << FastBits];

        /// <summary>The largest code of each length (index 1 to 16), -1 where there is none.</summary>
        public readonly int[] MaxCode = new int[17];

        /// <summary>What to add to a code of each length to find its symbol's index.</summary>
        public readonly int[] ValueOffset = new int[17];

        /// <summary>The symbols in code order.</summary>
        public readonly byte[] Values;

        private JpegHuffmanTable(byte[] values) => Values = values;

        /// <summary>
        /// Builds the table from a DHT segment's 16 counts and its symbols; null when the counts describe more
        /// codes than fit in their lengths (a crafted or broken table). The caller has checked that the bytes are there.
        /// </summary>
        public static JpegHuffmanTable? Build(byte[] data, int countsAt, int valuesAt, int valueCount)
        {
            var values = new byte[valueCount];
            System.Array.Copy(data, valuesAt, values, 0, valueCount);
            var table = new JpegHuffmanTable(values);
            int code = 0;
            int index = 0;
            for (int length = 1; length <= 16; length++)
            {
                int count = data[countsAt + length - 1];
                table.ValueOffset[length] = index - code;
                for (int i = 0; i < count; i++, code++, index++)
                {
                    if (code >= 1 << length)
                    {
                        return null;
                    }

                    if (length <= FastBits)
                    {
                        int first = code << (FastBits - length);
                        for (int fill = 0; fill < 1 << (FastBits - length); fill++)
                        {
                            table.Fast[first + fill] = (ushort)((length << 8) | values[index]);
                        }
                    }
                }

                table.MaxCode[length] = count > 0 ? code - 1 : -1;
                code <<= 1;
            }

            for (int bits = 0; bits < table.Fast.Length; bits++)
            {
                int length = table.Fast[bits] >> 8;
                int size = table.Fast[bits] & 15;
                if (length > 0 && size > 0 && length + size <= FastBits)
                {
                    int raw = (bits >> (FastBits - length - size)) & ((1 << size) - 1);
                    int coefficient = raw < 1 << (size - 1) ? raw - (1 << size) + 1 : raw;
                    table.FastAc[bits] = (coefficient << 16) | ((table.Fast[bits] & 0xF0) << 4) | (length + size);
                }
            }

            return table;
        }

        /// <summary>A code longer than <see cref="FastBits"/> at the top of <paramref name="code"/> (16 bits): (length &lt;&lt; 8) | symbol, or -1 when the table has no such code.</summary>
        public int DecodeLong(int code)
        {
            for (int length = FastBits + 1; length <= 16; length++)
            {
                int prefix = code >> (16 - length);
                if (prefix <= MaxCode[length])
                {
                    int index = prefix + ValueOffset[length];
                    return (uint)index < (uint)Values.Length ? (length << 8) | Values[index] : -1;
                }
            }

            return -1;
        }
    }
}
