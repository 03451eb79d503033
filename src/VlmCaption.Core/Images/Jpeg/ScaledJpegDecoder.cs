using System;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace VlmCaption.Images.Jpeg
{
    /// <summary>
    /// Decodes the JPEG a camera or a phone writes straight to 1/2, 1/4 or 1/8 of its size, by a reduced inverse
    /// DCT (see <see cref="ScaledIdct"/>), which ImageSharp 2.1 cannot do: a 12 MP photo sent at 1536 pixels then
    /// costs a fraction of a full decode and a downscale. Only the common layout is taken: baseline or extended
    /// sequential Huffman coding, 8 bits, grey or YCbCr with each component sampled at the full rate, a half or a
    /// quarter of it on each axis, in one scan. Anything else, and any file that is not well-formed from its first marker to the
    /// end of its scan, gives null, so that ImageSharp decodes it as it does every other image.
    /// </summary>
    internal sealed class ScaledJpegDecoder
    {
        // Natural (row-major) position of each coefficient in the order a block is coded (T.81 figure A.6).
        private static readonly byte[] ZigZag =
        {
            0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
            28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
            47, 55, 62, 63,
        };

        // The largest row and column among the first k + 1 coefficients in coded order.
        private static readonly int[] LastRowUpTo = UpTo(natural => natural >> 3);
        private static readonly int[] LastColumnUpTo = UpTo(natural => natural & 7);

        private readonly byte[] data;
        private readonly int scale;
        private readonly int[][] quantization = new int[4][];
        private readonly JpegHuffmanTable?[] dcTables = new JpegHuffmanTable?[4];
        private readonly JpegHuffmanTable?[] acTables = new JpegHuffmanTable?[4];
        private Component[] components = Array.Empty<Component>();
        private int width;
        private int height;
        private int restartInterval;
        private bool adobeRgb;

        private ScaledJpegDecoder(byte[] data, int scale)
        {
            this.data = data;
            this.scale = scale;
        }

        /// <summary>
        /// The whole JPEG file in <paramref name="data"/> decoded to 1/<paramref name="scale"/> (2, 4 or 8) of its
        /// width and height, rounded up, in an image of <paramref name="configuration"/>'s allocator; null when the
        /// file is not of the layout this decoder takes or not well-formed, or declares more than <paramref name="maxPixels"/>.
        /// </summary>
        public static Image<Rgb24>? TryDecode(byte[] data, int scale, Configuration configuration, long maxPixels) =>
            TryDecode(data, scale, configuration, maxPixels, out _);

        /// <summary><see cref="TryDecode(byte[], int, Configuration, long)"/>, telling how many rows of blocks were decoded before it ended.</summary>
        internal static Image<Rgb24>? TryDecode(byte[] data, int scale, Configuration configuration, long maxPixels, out int rowsDecoded)
        {
            if (scale != 2 && scale != 4 && scale != 8)
            {
                throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale is 2, 4 or 8.");
            }

            var decoder = new ScaledJpegDecoder(data, scale);
            Image<Rgb24>? image = decoder.Decode(configuration, maxPixels);
            rowsDecoded = decoder.rowsDecoded;
            return image;
        }

        // Rows of blocks (MCUs) the scan decoder finished.
        private int rowsDecoded;

        private Image<Rgb24>? Decode(Configuration configuration, long maxPixels)
        {
            if (data.Length < 4 || data[0] != 0xFF || data[1] != 0xD8)
            {
                return null;
            }

            int position = 2;
            while (true)
            {
                // Segments follow each other; 0xFF fill bytes may stand before a marker.
                if (position >= data.Length || data[position] != 0xFF)
                {
                    return null;
                }

                while (position < data.Length && data[position] == 0xFF)
                {
                    position++;
                }

                if (position + 2 >= data.Length)
                {
                    return null;
                }

                int marker = data[position];
                int length = (data[position + 1] << 8) | data[position + 2];
                int start = position + 3;
                int end = position + 1 + length;
                if (length < 2 || end > data.Length || marker == 0xD9 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
                {
                    return null;
                }

                if (marker == 0xDA)
                {
                    return ReadScan(start, end, configuration);
                }

                bool read = marker switch
                {
                    0xC0 or 0xC1 => ReadFrame(start, end, maxPixels),
                    0xC4 => ReadHuffmanTables(start, end),
                    0xDB => ReadQuantizationTables(start, end),
                    0xDD => ReadRestartInterval(start, end),
                    0xEE => ReadAdobe(start, end),

                    // Progressive, lossless, hierarchical and arithmetic-coded frames are left to ImageSharp.
                    >= 0xC2 and <= 0xCF when marker != 0xC8 => false,
                    _ => true,
                };

                if (!read)
                {
                    return null;
                }

                position = end;
            }
        }

        private bool ReadFrame(int start, int end, long maxPixels)
        {
            if (components.Length > 0 || end - start < 6 || data[start] != 8)
            {
                return false;
            }

            height = (data[start + 1] << 8) | data[start + 2];
            width = (data[start + 3] << 8) | data[start + 4];
            int count = data[start + 5];
            if (width == 0 || height == 0 || (long)width * height > maxPixels || (count != 1 && count != 3) || end - start != 6 + (3 * count))
            {
                return false;
            }

            var read = new Component[count];
            for (int i = 0; i < count; i++)
            {
                int at = start + 6 + (3 * i);
                int horizontal = data[at + 1] >> 4;
                int vertical = data[at + 1] & 15;
                if (horizontal < 1 || horizontal > 4 || vertical < 1 || vertical > 4 || data[at + 2] > 3)
                {
                    return false;
                }

                for (int j = 0; j < i; j++)
                {
                    if (read[j].Id == data[at])
                    {
                        return false;
                    }
                }

                // One component alone is coded block by block whatever its sampling factors say (T.81 A.2.2).
                read[i] = count == 1 ? new Component(data[at], 1, 1, data[at + 2]) : new Component(data[at], horizontal, vertical, data[at + 2]);
            }

            components = read;
            return true;
        }

        private bool ReadHuffmanTables(int start, int end)
        {
            int at = start;
            while (at < end)
            {
                if (end - at < 17 || data[at] >> 4 > 1 || (data[at] & 15) > 3)
                {
                    return false;
                }

                int symbols = 0;
                for (int i = 1; i <= 16; i++)
                {
                    symbols += data[at + i];
                }

                if (symbols > 256 || at + 17 + symbols > end)
                {
                    return false;
                }

                JpegHuffmanTable? table = JpegHuffmanTable.Build(data, at + 1, at + 17, symbols);
                if (table is null)
                {
                    return false;
                }

                (data[at] >> 4 == 0 ? dcTables : acTables)[data[at] & 15] = table;
                at += 17 + symbols;
            }

            return true;
        }

        private bool ReadQuantizationTables(int start, int end)
        {
            int at = start;
            while (at < end)
            {
                int precision = data[at] >> 4;
                int size = precision == 0 ? 64 : 128;
                if (precision > 1 || (data[at] & 15) > 3 || at + 1 + size > end)
                {
                    return false;
                }

                var table = new int[64];
                for (int k = 0; k < 64; k++)
                {
                    table[k] = precision == 0 ? data[at + 1 + k] : (data[at + 1 + (2 * k)] << 8) | data[at + 2 + (2 * k)];
                }

                quantization[data[at] & 15] = table;
                at += 1 + size;
            }

            return true;
        }

        private bool ReadRestartInterval(int start, int end)
        {
            if (end - start != 2)
            {
                return false;
            }

            restartInterval = (data[start] << 8) | data[start + 1];
            return true;
        }

        private bool ReadAdobe(int start, int end)
        {
            // Adobe's APP14 says whether three components are YCbCr (transform 1) or RGB (0).
            if (end - start >= 12 && data[start] == 'A' && data[start + 1] == 'd' && data[start + 2] == 'o' && data[start + 3] == 'b' && data[start + 4] == 'e')
            {
                adobeRgb = data[start + 11] == 0;
            }

            return true;
        }

        private Image<Rgb24>? ReadScan(int start, int end, Configuration configuration)
        {
            int count = components.Length;
            if (count == 0 || end - start != 4 + (2 * count) || data[start] != count)
            {
                return null;
            }

            // Three components are YCbCr unless Adobe's marker or the ids 'R', 'G', 'B' say RGB, as ImageSharp reads them.
            if (count == 3 && (adobeRgb || (components[0].Id == 'R' && components[1].Id == 'G' && components[2].Id == 'B')))
            {
                return null;
            }

            // One scan holding every component, in the frame's order, with every coefficient (a sequential scan).
            for (int i = 0; i < count; i++)
            {
                Component component = components[i];
                int id = data[start + 1 + (2 * i)];
                int tables = data[start + 2 + (2 * i)];
                if (id != component.Id || quantization[component.QuantizationTable] is null || tables >> 4 > 3 || (tables & 15) > 3)
                {
                    return null;
                }

                component.Dc = dcTables[tables >> 4];
                component.Ac = acTables[tables & 15];
                if (component.Dc is null || component.Ac is null)
                {
                    return null;
                }
            }

            int spectral = start + 1 + (2 * count);
            if (data[spectral] != 0 || data[spectral + 1] != 63 || data[spectral + 2] != 0)
            {
                return null;
            }

            return new ScanDecoder(this, end).Decode(configuration);
        }

        /// <summary>A component of the frame and what its blocks are decoded to.</summary>
        private sealed class Component
        {
            public Component(int id, int horizontal, int vertical, int quantizationTable)
            {
                Id = id;
                Horizontal = horizontal;
                Vertical = vertical;
                QuantizationTable = quantizationTable;
            }

            public int Id { get; }

            public int Horizontal { get; }

            public int Vertical { get; }

            public int QuantizationTable { get; }

            public JpegHuffmanTable? Dc { get; set; }

            public JpegHuffmanTable? Ac { get; set; }
        }

        /// <summary>
        /// Decodes the scan one row of MCUs at a time into a strip per component, and turns each strip into rows
        /// of pixels. Luma blocks become 8 / scale pixels a side; chroma blocks at most 4, widened by repeating
        /// samples where they cover more (4:2:0 at half size: one chroma sample for 2x2 pixels, which is still
        /// more chroma than the 4:2:0 JPEG sent keeps).
        /// </summary>
        private sealed class ScanDecoder
        {
            private readonly ScaledJpegDecoder frame;
            private readonly byte[] data;
            private readonly int[] block = new int[64];
            private JpegBitReader reader;

            public ScanDecoder(ScaledJpegDecoder frame, int position)
            {
                this.frame = frame;
                data = frame.data;
                reader = new JpegBitReader(position);
            }

            public Image<Rgb24>? Decode(Configuration configuration)
            {
                Component[] components = frame.components;
                int count = components.Length;
                int maxHorizontal = 1, maxVertical = 1;
                foreach (Component component in components)
                {
                    maxHorizontal = Math.Max(maxHorizontal, component.Horizontal);
                    maxVertical = Math.Max(maxVertical, component.Vertical);
                }

                // Luma blocks become 8 / scale pixels a side. A component sampled at half or a quarter of the rate
                // is decoded to as many pixels as it covers up to 4 a side, and widened by repeating samples past that.
                int side = 8 / frame.scale;
                int mcusAcross = (frame.width + (8 * maxHorizontal) - 1) / (8 * maxHorizontal);
                int mcusDown = (frame.height + (8 * maxVertical) - 1) / (8 * maxVertical);
                int outputWidth = (frame.width + frame.scale - 1) / frame.scale;
                int outputHeight = (frame.height + frame.scale - 1) / frame.scale;
                var strips = new Strip[count];
                for (int c = 0; c < count; c++)
                {
                    int across = maxHorizontal / components[c].Horizontal;
                    int down = maxVertical / components[c].Vertical;
                    if (maxHorizontal % components[c].Horizontal != 0 || maxVertical % components[c].Vertical != 0 || across == 3 || down == 3)
                    {
                        return null;
                    }

                    int blockSide = Math.Min(4, side * Math.Min(across, down));
                    strips[c] = new Strip(mcusAcross * components[c].Horizontal * blockSide, components[c].Vertical * blockSide, blockSide, Log2(side * across / blockSide), Log2(side * down / blockSide));
                }

                var predictions = new int[count];
                int untilRestart = frame.restartInterval;
                int restarts = 0;
                int stripHeight = maxVertical * side;
                var image = new Image<Rgb24>(configuration, outputWidth, outputHeight);
                bool done = false;
                try
                {
                    for (int mcuRow = 0; mcuRow < mcusDown; mcuRow++)
                    {
                        for (int mcu = 0; mcu < mcusAcross; mcu++)
                        {
                            if (frame.restartInterval > 0)
                            {
                                if (untilRestart == 0)
                                {
                                    if (!reader.Restart(data, restarts & 7))
                                    {
                                        return null;
                                    }

                                    restarts++;
                                    untilRestart = frame.restartInterval;
                                    Array.Clear(predictions, 0, count);
                                }

                                untilRestart--;
                            }

                            for (int c = 0; c < count; c++)
                            {
                                Component component = components[c];
                                Strip strip = strips[c];
                                int[] quantization = frame.quantization[component.QuantizationTable];
                                for (int v = 0; v < component.Vertical; v++)
                                {
                                    for (int h = 0; h < component.Horizontal; h++)
                                    {
                                        if (!DecodeBlock(component, quantization, strip, ref predictions[c], out int lastRow, out int lastColumn))
                                        {
                                            return null;
                                        }

                                        int x = ((mcu * component.Horizontal) + h) * strip.BlockSide;
                                        ScaledIdct.Transform(block, lastRow, lastColumn, strip.BlockSide, strip.Samples, (v * strip.BlockSide * strip.Width) + x, strip.Width);
                                    }
                                }
                            }
                        }

                        WriteStrip(image, strips, mcuRow * stripHeight, Math.Min(stripHeight, outputHeight - (mcuRow * stripHeight)));
                        frame.rowsDecoded = mcuRow + 1;

                        // Data that ended early reads as zeros, which decode as blocks too: a header claiming
                        // 10000x9999 over a few bytes would be decoded to its last row before anyone noticed.
                        if (reader.Overran)
                        {
                            return null;
                        }
                    }

                    done = !reader.Overran;
                    return done ? image : null;
                }
                finally
                {
                    if (!done)
                    {
                        image.Dispose();
                    }
                }
            }

            /// <summary>
            /// Decodes one block's coefficients (T.81 F.2.2), keeping those the reduced transform uses, dequantized;
            /// false for data no table codes or a run past the block's end. The reader's state is held in locals.
            /// </summary>
            private bool DecodeBlock(Component component, int[] quantization, Strip strip, ref int prediction, out int lastRow, out int lastColumn)
            {
                int[] target = strip.Target;
                int lastKept = 0;
                lastRow = 0;
                lastColumn = 0;
                byte[] data = this.data;
                ulong bits = reader.Bits;
                int count = reader.Count, position = reader.Position, padding = reader.Padding;
                JpegHuffmanTable dc = component.Dc!;
                JpegHuffmanTable ac = component.Ac!;

                if (count < 32)
                {
                    JpegBitReader.Refill(data, ref bits, ref count, ref position, ref padding);
                }

                int entry = dc.Fast[(int)(bits >> (64 - JpegHuffmanTable.FastBits))];
                if (entry == 0 && (entry = dc.DecodeLong((int)(bits >> 48))) < 0)
                {
                    return false;
                }

                bits <<= entry >> 8;
                count -= entry >> 8;
                int size = entry & 0xFF;
                if (size > 15)
                {
                    return false;
                }

                if (size > 0)
                {
                    prediction += JpegBitReader.Extend(bits, size);
                    bits <<= size;
                    count -= size;
                }

                block[0] = prediction * quantization[0];
                for (int k = 1; k < 64; k++)
                {
                    if (count < 32)
                    {
                        JpegBitReader.Refill(data, ref bits, ref count, ref position, ref padding);
                    }

                    int value;
                    int fast = ac.FastAc[(int)(bits >> (64 - JpegHuffmanTable.FastBits))];
                    if (fast != 0)
                    {
                        // The code and its coefficient in one look-up.
                        bits <<= fast & 0xFF;
                        count -= fast & 0xFF;
                        k += (fast >> 8) & 15;
                        value = fast >> 16;
                    }
                    else
                    {
                        entry = ac.Fast[(int)(bits >> (64 - JpegHuffmanTable.FastBits))];
                        if (entry == 0 && (entry = ac.DecodeLong((int)(bits >> 48))) < 0)
                        {
                            return false;
                        }

                        bits <<= entry >> 8;
                        count -= entry >> 8;
                        size = entry & 15;
                        if (size == 0)
                        {
                            if ((entry & 0xF0) != 0xF0)
                            {
                                break;
                            }

                            k += 15;
                            continue;
                        }

                        k += (entry >> 4) & 15;
                        value = JpegBitReader.Extend(bits, size);
                        bits <<= size;
                        count -= size;
                    }

                    if (k > 63)
                    {
                        return false;
                    }

                    int natural = target[k];
                    if (natural >= 0)
                    {
                        block[natural] = value * quantization[k];
                        lastKept = k;
                    }
                }

                // Bounds on where the kept coefficients lie, from the last one in coded order.
                lastRow = Math.Min(strip.BlockSide - 1, LastRowUpTo[lastKept]);
                lastColumn = Math.Min(strip.BlockSide - 1, LastColumnUpTo[lastKept]);
                reader.Bits = bits;
                reader.Count = count;
                reader.Position = position;
                reader.Padding = padding;
                return true;
            }

            private static void WriteStrip(Image<Rgb24> image, Strip[] strips, int top, int lines)
            {
                int width = image.Width;
                image.ProcessPixelRows(pixels =>
                {
                    for (int line = 0; line < lines; line++)
                    {
                        Span<Rgb24> row = pixels.GetRowSpan(top + line).Slice(0, width);
                        if (strips.Length == 1)
                        {
                            ReadOnlySpan<byte> grey = strips[0].Row(line);
                            for (int x = 0; x < row.Length; x++)
                            {
                                row[x] = new Rgb24(grey[x], grey[x], grey[x]);
                            }
                        }
                        else
                        {
                            YCbCr.ToRgb(strips[0].Row(line), strips[0].Shift, strips[1].Row(line), strips[1].Shift, strips[2].Row(line), strips[2].Shift, row);
                        }
                    }
                });
            }
        }

        private static int[] UpTo(Func<int, int> part)
        {
            var table = new int[64];
            for (int k = 0; k < 64; k++)
            {
                table[k] = Math.Max(k == 0 ? 0 : table[k - 1], part(ZigZag[k]));
            }

            return table;
        }

        private static int Log2(int value) => value == 4 ? 2 : value == 2 ? 1 : 0;

        /// <summary>One MCU row of a component's samples at the reduced size, and how much it is widened to the image's.</summary>
        private sealed class Strip
        {
            public Strip(int width, int height, int blockSide, int shift, int downShift)
            {
                Width = width;
                Samples = new byte[width * height];
                BlockSide = blockSide;
                Shift = shift;
                DownShift = downShift;
                Target = new int[64];
                for (int k = 0; k < 64; k++)
                {
                    Target[k] = ZigZag[k] % 8 < blockSide && ZigZag[k] / 8 < blockSide ? ZigZag[k] : -1;
                }
            }

            public int Width { get; }

            public byte[] Samples { get; }

            /// <summary>1, 2 or 4: the pixels a side each block is decoded to.</summary>
            public int BlockSide { get; }

            /// <summary>For each coefficient in coded order, its natural position if the reduced transform uses it, else -1.</summary>
            public int[] Target { get; }

            /// <summary>0, 1 or 2: each sample stands for 1, 2 or 4 pixels across.</summary>
            public int Shift { get; }

            /// <summary>0, 1 or 2: each row of samples stands for 1, 2 or 4 rows of pixels.</summary>
            public int DownShift { get; }

            public ReadOnlySpan<byte> Row(int line) => Samples.AsSpan((line >> DownShift) * Width, Width);
        }
    }
}
