using System;
using System.Collections.Generic;
using System.IO;
using VlmCaption.Images;

namespace VlmCaption.Batch
{
    /// <summary>
    /// The prepared copy of an image a batch run keeps (prepared-NNNNNN): its data URI as a quoted JSON string, ready
    /// to be copied into every request of its conversation; for a clip sent as frames, one such string a line
    /// (base64 holds no line break), their seconds and sizes in images.jsonl.
    /// </summary>
    internal static class BatchPrepared
    {
        /// <summary>Writes what was prepared, whole or not at all.</summary>
        public static void Write(string path, PreparedImage prepared) =>
            BatchFolder.WriteWhole(path, stream =>
            {
                if (prepared.Frames.Count == 0)
                {
                    stream.Write(prepared.DataUriJson, 0, prepared.DataUriJson.Length);
                    return;
                }

                foreach (Video.ClipFrame frame in prepared.Frames)
                {
                    stream.Write(frame.Image.DataUriJson, 0, frame.Image.DataUriJson.Length);
                    stream.WriteByte((byte)'\n');
                }
            });

        /// <summary>The prepared image (or clip) of <paramref name="image"/>, read back within the bound its sizes give.</summary>
        public static PreparedImage Load(string path, BatchImage image)
        {
            // Its data URI as a JSON string: base64 of the prepared bytes and a short head; a clip's frames a line each.
            long bound = (image.Bytes * 4 / 3) + 4096 + (image.FrameBytes.Length * 4096L);
            if (RegularFile.Check(path, bound) != RegularFile.Kind.Readable)
            {
                throw BatchFolder.Invalid(path, $"is missing, empty, not a regular file or larger than the prepared image it holds can be ({bound} bytes)");
            }

            byte[] data = RegularFile.ReadAllBytes(path, bound);
            if (image.ClipSeconds is not double seconds)
            {
                return new PreparedImage(data, image.MediaType, image.Width, image.Height, image.Bytes);
            }

            if (image.FrameSeconds.Length == 0)
            {
                // A clip sent as itself.
                return PreparedImage.KeptVideo(data, seconds, image.Width, image.Height, image.Bytes);
            }

            var frames = new List<Video.ClipFrame>(image.FrameSeconds.Length);
            int start = 0;
            for (int i = 0; i < image.FrameSeconds.Length; i++)
            {
                int end = Array.IndexOf(data, (byte)'\n', start);
                if (end < 0)
                {
                    throw BatchFolder.Invalid(path, $"holds fewer frames than the {image.FrameSeconds.Length} its clip was prepared with");
                }

                frames.Add(new Video.ClipFrame(new PreparedImage(data.AsSpan(start, end - start).ToArray(), image.MediaType, image.Width, image.Height, image.FrameBytes[i]), image.FrameSeconds[i]));
                start = end + 1;
            }

            return PreparedImage.Clip(frames, seconds, image.OriginalWidth, image.OriginalHeight);
        }
    }
}
