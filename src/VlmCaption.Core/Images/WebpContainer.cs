using System;
using System.Collections.Generic;
using System.IO;

namespace VlmCaption.Images
{
    /// <summary>
    /// The frames of an animated WebP, read from its RIFF container as Google's container specification lays it
    /// out (developers.google.com/speed/webp/docs/riff_container: VP8X, ANIM and ANMF chunks). ImageSharp 2.1
    /// refuses animated WebP ("Animated webp are not yet supported") and ffmpeg 5.1's decoder reads no ANMF chunk,
    /// so each frame is cut out here as a still WebP file for ImageSharp to decode, with where and how it is drawn.
    /// Only the chunk headers are read at first; a frame's bytes are read when it is decoded, within a bound.
    /// </summary>
    internal static class WebpContainer
    {
        /// <summary>A frame's compressed bytes over this are refused: far above any real frame, well below memory.</summary>
        public const int MaxFrameBytes = 64 * 1024 * 1024;

        /// <summary>Where a frame is drawn on the canvas, for how long, and how (the ANMF header's fields).</summary>
        public sealed record Frame(int X, int Y, int Width, int Height, int DurationMs, bool Blend, bool DisposeToBackground, long DataOffset, int DataLength);

        /// <summary>The canvas and the frames, in order; at most the number asked for.</summary>
        public sealed record Animation(int CanvasWidth, int CanvasHeight, IReadOnlyList<Frame> Frames, bool Truncated);

        /// <summary>True when the stream is a WebP whose VP8X header sets the animation flag; the stream is left at 0.</summary>
        public static bool IsAnimated(Stream stream)
        {
            var head = new byte[21];
            stream.Position = 0;
            int read = ReadFully(stream, head);
            stream.Position = 0;
            return read == head.Length && Ascii(head, 0, "RIFF") && Ascii(head, 8, "WEBP") && Ascii(head, 12, "VP8X") && (head[20] & 0x02) != 0;
        }

        /// <summary>
        /// Reads the canvas size and the frame headers, at most <paramref name="maxFrames"/> (later frames are
        /// left out and <see cref="Animation.Truncated"/> says so); throws <see cref="InvalidDataException"/> naming
        /// what is wrong for a container that is cut short or whose chunks do not add up.
        /// </summary>
        public static Animation Read(Stream stream, int maxFrames)
        {
            long length = stream.Length;
            var header = new byte[12];
            stream.Position = 0;
            if (ReadFully(stream, header) < 12)
            {
                throw new InvalidDataException("its RIFF header is cut short");
            }

            // The RIFF size counts from byte 8; a file cut short ends the chunks at its own end, and any chunk that
            // runs past it is reported as cut short.
            long end = Math.Min(length, 8L + U32(header, 4));
            int canvasWidth = 0, canvasHeight = 0;
            var frames = new List<Frame>();
            bool truncated = false;
            long position = 12;
            var chunk = new byte[8];
            var fields = new byte[16];
            while (position + 8 <= end)
            {
                stream.Position = position;
                ReadFully(stream, chunk);
                long size = U32(chunk, 4);
                long payload = position + 8;
                if (payload + size > end)
                {
                    throw new InvalidDataException($"its {Name(chunk)} chunk at byte {position} says {size} bytes, past the end of the file ({length} bytes): the file is cut short");
                }

                if (Ascii(chunk, 0, "VP8X"))
                {
                    if (size < 10 || ReadFully(stream, fields, 10) < 10)
                    {
                        throw new InvalidDataException("its VP8X chunk is too short");
                    }

                    canvasWidth = 1 + U24(fields, 4);
                    canvasHeight = 1 + U24(fields, 7);
                }
                else if (Ascii(chunk, 0, "ANMF"))
                {
                    if (size < 16 || ReadFully(stream, fields, 16) < 16)
                    {
                        throw new InvalidDataException($"its frame {frames.Count + 1} (ANMF chunk at byte {position}) is too short");
                    }

                    if (frames.Count == maxFrames)
                    {
                        truncated = true;
                        break;
                    }

                    if (size - 16 > MaxFrameBytes)
                    {
                        throw new InvalidDataException($"its frame {frames.Count + 1} holds {size - 16} bytes, over the {MaxFrameBytes / 1048576} MB a frame may hold");
                    }

                    // The offsets are stored halved; the flags byte holds the blending bit (set: do not blend) and
                    // the disposal bit (set: clear the frame's rectangle to the background after it is shown).
                    frames.Add(new Frame(
                        X: 2 * U24(fields, 0),
                        Y: 2 * U24(fields, 3),
                        Width: 1 + U24(fields, 6),
                        Height: 1 + U24(fields, 9),
                        DurationMs: U24(fields, 12),
                        Blend: (fields[15] & 0x02) == 0,
                        DisposeToBackground: (fields[15] & 0x01) != 0,
                        DataOffset: payload + 16,
                        DataLength: (int)(size - 16)));
                }

                position = payload + size + (size & 1);
            }

            if (canvasWidth == 0)
            {
                throw new InvalidDataException("it has no VP8X header giving the canvas size");
            }

            if (frames.Count == 0)
            {
                throw new InvalidDataException("it says it is animated but holds no frame (ANMF chunk)");
            }

            foreach (Frame frame in frames)
            {
                if ((long)frame.X + frame.Width > canvasWidth || (long)frame.Y + frame.Height > canvasHeight)
                {
                    throw new InvalidDataException($"a frame of {frame.Width}x{frame.Height} at {frame.X},{frame.Y} lies outside its {canvasWidth}x{canvasHeight} canvas");
                }
            }

            return new Animation(canvasWidth, canvasHeight, frames, truncated);
        }

        /// <summary>
        /// The frame as a still WebP file: its VP8L chunk alone, or its VP8 chunk with the ALPH chunk before it
        /// under a VP8X header that says so, as a still WebP with alpha is laid out.
        /// </summary>
        public static byte[] StillFile(Stream stream, Frame frame)
        {
            var data = new byte[frame.DataLength];
            stream.Position = frame.DataOffset;
            if (ReadFully(stream, data) < data.Length)
            {
                throw new InvalidDataException("a frame is cut short");
            }

            ArraySegment<byte>? alpha = null, picture = null;
            bool lossless = false;
            int position = 0;
            while (position + 8 <= data.Length)
            {
                long size = U32(data, position + 4);
                if (position + 8 + size > data.Length)
                {
                    throw new InvalidDataException("a frame's chunk runs past the frame");
                }

                var whole = new ArraySegment<byte>(data, position, (int)(8 + size));
                if (Ascii(data, position, "ALPH"))
                {
                    alpha = whole;
                }
                else if (Ascii(data, position, "VP8 ") || Ascii(data, position, "VP8L"))
                {
                    picture = whole;
                    lossless = Ascii(data, position, "VP8L");
                    break;
                }

                position += (int)(8 + size + (size & 1));
            }

            if (picture is null)
            {
                throw new InvalidDataException("a frame holds no picture (VP8 or VP8L chunk)");
            }

            using var file = new MemoryStream();
            file.Write(new byte[] { (byte)'R', (byte)'I', (byte)'F', (byte)'F', 0, 0, 0, 0, (byte)'W', (byte)'E', (byte)'B', (byte)'P' }, 0, 12);
            if (alpha is ArraySegment<byte> a && !lossless)
            {
                var vp8x = new byte[18];
                Put(vp8x, 0, "VP8X");
                vp8x[4] = 10;
                vp8x[8] = 0x10;
                PutU24(vp8x, 12, frame.Width - 1);
                PutU24(vp8x, 15, frame.Height - 1);
                file.Write(vp8x, 0, vp8x.Length);
                WritePadded(file, a);
            }

            WritePadded(file, picture.Value);
            byte[] bytes = file.ToArray();
            uint riff = (uint)(bytes.Length - 8);
            bytes[4] = (byte)riff;
            bytes[5] = (byte)(riff >> 8);
            bytes[6] = (byte)(riff >> 16);
            bytes[7] = (byte)(riff >> 24);
            return bytes;
        }

        private static void WritePadded(Stream file, ArraySegment<byte> chunk)
        {
            file.Write(chunk.Array!, chunk.Offset, chunk.Count);
            if ((chunk.Count & 1) != 0)
            {
                file.WriteByte(0);
            }
        }

        private static int ReadFully(Stream stream, byte[] buffer, int count = -1)
        {
            count = count < 0 ? buffer.Length : count;
            int total = 0;
            while (total < count)
            {
                int read = stream.Read(buffer, total, count - total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total;
        }

        private static bool Ascii(byte[] bytes, int offset, string text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                if (bytes[offset + i] != text[i])
                {
                    return false;
                }
            }

            return true;
        }

        private static string Name(byte[] chunk)
        {
            var name = new char[4];
            for (int i = 0; i < 4; i++)
            {
                name[i] = chunk[i] >= 32 && chunk[i] < 127 ? (char)chunk[i] : '?';
            }

            return new string(name);
        }

        private static void Put(byte[] bytes, int offset, string text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                bytes[offset + i] = (byte)text[i];
            }
        }

        private static void PutU24(byte[] bytes, int offset, int value)
        {
            bytes[offset] = (byte)value;
            bytes[offset + 1] = (byte)(value >> 8);
            bytes[offset + 2] = (byte)(value >> 16);
        }

        private static int U24(byte[] bytes, int offset) => bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16);

        private static long U32(byte[] bytes, int offset) => (uint)(bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24));
    }
}
