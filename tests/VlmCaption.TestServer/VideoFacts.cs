using System.Buffers.Binary;
using System.Text;

namespace VlmCaption.TestServer;

/// <summary>What the server read from an mp4 it was sent: the movie header's length and the first track's picture size.</summary>
public sealed record VideoFacts(string MimeType, long Bytes, double Seconds, int Width, int Height)
{
    /// <summary>Reads a data URI of an mp4; throws <see cref="FormatException"/> with a server-style message when it cannot.</summary>
    public static VideoFacts FromDataUri(string url)
    {
        int comma = url.IndexOf(";base64,", StringComparison.Ordinal);
        if (!url.StartsWith("data:video/", StringComparison.Ordinal) || comma < 0)
        {
            throw new FormatException("video_url must be a base64 data URI of a video");
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(url[(comma + 8)..]);
        }
        catch (FormatException)
        {
            throw new FormatException("video data is not valid base64");
        }

        double seconds = 0;
        int width = 0, height = 0;
        Walk(bytes, 0, bytes.Length, ref seconds, ref width, ref height);
        if (seconds <= 0 || width <= 0)
        {
            throw new FormatException("the video could not be read: no movie header");
        }

        return new VideoFacts(url[5..comma], bytes.Length, Math.Round(seconds, 2), width, height);
    }

    // ISO/IEC 14496-12: boxes of a 32-bit size and a four-letter type; moov and trak hold others.
    private static void Walk(byte[] data, int start, int end, ref double seconds, ref int width, ref int height)
    {
        int at = start;
        while (at + 8 <= end)
        {
            long size = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
            string type = Encoding.ASCII.GetString(data, at + 4, 4);
            if (size < 8 || at + size > end)
            {
                return;
            }

            int body = at + 8;
            if (type is "moov" or "trak")
            {
                Walk(data, body, (int)(at + size), ref seconds, ref width, ref height);
            }
            else if (type == "mvhd" && data[body] == 0)
            {
                uint scale = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(body + 12));
                uint duration = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(body + 16));
                seconds = scale == 0 ? 0 : (double)duration / scale;
            }
            else if (type == "tkhd" && data[body] == 0 && width == 0)
            {
                // Version 0: width and height are 16.16 fixed point at bytes 76 and 80 of the box's body.
                width = (int)(BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(body + 76)) >> 16);
                height = (int)(BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(body + 80)) >> 16);
            }

            at += (int)size;
        }
    }
}
