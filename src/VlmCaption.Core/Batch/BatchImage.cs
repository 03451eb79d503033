using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace VlmCaption.Batch
{
    /// <summary>One image of a batch run as its state file keeps it: where it is, its hints, and how it was sent.</summary>
    internal sealed class BatchImage
    {
        /// <summary>Its number in the run, from 1; custom ids and the prepared file are named by it.</summary>
        public int Number { get; set; }

        public string Path { get; set; } = "";

        public IReadOnlyList<string> Hints { get; set; } = new string[0];

        public int Width { get; set; }

        public int Height { get; set; }

        public int OriginalWidth { get; set; }

        public int OriginalHeight { get; set; }

        public long Bytes { get; set; }

        public string MediaType { get; set; } = "";

        /// <summary>A clip sent as frames: the second of each frame, in order; empty for an image.</summary>
        public double[] FrameSeconds { get; set; } = new double[0];

        /// <summary>A clip sent as frames: each frame's bytes, in order.</summary>
        public long[] FrameBytes { get; set; } = new long[0];

        /// <summary>A clip's length in seconds; null for an image.</summary>
        public double? ClipSeconds { get; set; }

        /// <summary>Why it could not be prepared; such an image is reported as failed and never sent.</summary>
        public CaptionException? Error { get; set; }

        public string Key => Number.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>One line of images.jsonl.</summary>
        public string ToLine()
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteNumber("number", Number);
                json.WriteString("path", Path);
                json.WriteStartArray("hints");
                foreach (string hint in Hints)
                {
                    json.WriteStringValue(hint);
                }

                json.WriteEndArray();
                if (Error is null)
                {
                    json.WriteNumber("width", Width);
                    json.WriteNumber("height", Height);
                    json.WriteNumber("originalWidth", OriginalWidth);
                    json.WriteNumber("originalHeight", OriginalHeight);
                    json.WriteNumber("bytes", Bytes);
                    json.WriteString("mediaType", MediaType);
                    if (ClipSeconds is double seconds)
                    {
                        json.WriteNumber("clipSeconds", seconds);
                        json.WriteStartArray("frameSeconds");
                        foreach (double at in FrameSeconds)
                        {
                            json.WriteNumberValue(at);
                        }

                        json.WriteEndArray();
                        json.WriteStartArray("frameBytes");
                        foreach (long bytes in FrameBytes)
                        {
                            json.WriteNumberValue(bytes);
                        }

                        json.WriteEndArray();
                    }
                }
                else
                {
                    json.WriteString("errorId", Error.ErrorId);
                    json.WriteString("category", Error.Category.ToString());
                    json.WriteString("error", Error.Message);
                }

                json.WriteEndObject();
            }

            return System.Text.Encoding.UTF8.GetString(stream.ToArray());
        }

        /// <summary>Reads a line written by <see cref="ToLine"/>.</summary>
        public static BatchImage FromLine(string line)
        {
            using JsonDocument document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            var image = new BatchImage
            {
                Number = root.GetProperty("number").GetInt32(),
                Path = root.GetProperty("path").GetString() ?? "",
                Hints = root.GetProperty("hints").EnumerateArray().Select(h => h.GetString() ?? "").ToArray(),
            };
            if (root.TryGetProperty("error", out JsonElement error))
            {
                System.Enum.TryParse(root.GetProperty("category").GetString(), out CaptionErrorCategory category);
                image.Error = new CaptionException(root.GetProperty("errorId").GetString() ?? "CaptionFailed", category, error.GetString() ?? "");
            }
            else
            {
                image.Width = root.GetProperty("width").GetInt32();
                image.Height = root.GetProperty("height").GetInt32();
                image.OriginalWidth = root.GetProperty("originalWidth").GetInt32();
                image.OriginalHeight = root.GetProperty("originalHeight").GetInt32();
                image.Bytes = root.GetProperty("bytes").GetInt64();
                image.MediaType = root.GetProperty("mediaType").GetString() ?? "";
                if (root.TryGetProperty("clipSeconds", out JsonElement clip))
                {
                    image.ClipSeconds = clip.GetDouble();
                    image.FrameSeconds = root.GetProperty("frameSeconds").EnumerateArray().Select(f => f.GetDouble()).ToArray();
                    image.FrameBytes = root.GetProperty("frameBytes").EnumerateArray().Select(f => f.GetInt64()).ToArray();
                    if (image.FrameBytes.Length != image.FrameSeconds.Length)
                    {
                        throw new JsonException("a clip's frames and their sizes differ in number");
                    }
                }
            }

            return image;
        }
    }
}
