using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace VlmCaption.Output
{
    /// <summary>
    /// The original tool's jsonl output: one line {"text","model","prompt"} appended to &lt;image stem&gt;.jsonl, so
    /// one image can hold captions from several models and prompt chains.
    /// </summary>
    public static class JsonlCaptionFile
    {
        private static readonly JsonWriterOptions Options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        /// <summary>The prompt field: the prompts joined by a blank line.</summary>
        public static string PromptField(System.Collections.Generic.IReadOnlyList<string> prompts) => string.Join("\n\n", prompts);

        /// <summary>&lt;image path without extension&gt;.jsonl.</summary>
        public static string PathFor(string imagePath) => CaptionFile.PathFor(imagePath, ".jsonl");

        /// <summary>The largest jsonl file read; a run's lines are short, and a crafted file must not cost gigabytes.</summary>
        public const long MaxFileBytes = 64L * 1024 * 1024;

        /// <summary>True when the image's jsonl file has a non-empty caption by this model for these prompts.</summary>
        public static bool HasCaption(string imagePath, string model, string prompt)
        {
            foreach (Entry entry in Entries(imagePath))
            {
                if (entry.Model == model && entry.Prompt == prompt && entry.Text.Length > 0)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>
        /// The whole lines of the image's jsonl file, in order; a line cut short by a crash, or one that is not a
        /// caption, is passed over. None when there is no file, or it is not a regular file under the limit.
        /// </summary>
        public static List<Entry> Entries(string imagePath)
        {
            var entries = new List<Entry>();
            string path = PathFor(imagePath);
            if (RegularFile.Check(path, MaxFileBytes) != RegularFile.Kind.Readable)
            {
                return entries;
            }

            string text;
            try
            {
                text = new UTF8Encoding(false).GetString(RegularFile.ReadAllBytes(path, MaxFileBytes));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return entries;
            }

            foreach (string line in text.Split('\n'))
            {
                try
                {
                    using JsonDocument document = JsonDocument.Parse(line);
                    JsonElement root = document.RootElement;
                    if (root.ValueKind == JsonValueKind.Object
                        && root.TryGetProperty("text", out JsonElement t) && t.ValueKind == JsonValueKind.String)
                    {
                        entries.Add(new Entry(
                            t.GetString()!,
                            root.TryGetProperty("model", out JsonElement m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "",
                            root.TryGetProperty("prompt", out JsonElement p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "")
                        {
                            Data = root.TryGetProperty("data", out JsonElement d) && d.ValueKind == JsonValueKind.Object ? d.GetRawText() : null,
                        });
                    }
                }
                catch (Exception e) when (e is JsonException || e is InvalidOperationException)
                {
                    // A line cut short by a crash, or not text: not a caption.
                }
            }

            return entries;
        }

        /// <summary>One line of a jsonl caption file.</summary>
        public sealed class Entry
        {
            internal Entry(string text, string model, string prompt)
            {
                Text = text;
                Model = model;
                Prompt = prompt;
            }

            /// <summary>The caption.</summary>
            public string Text { get; }

            /// <summary>The model that wrote it.</summary>
            public string Model { get; }

            /// <summary>The prompts, joined by a blank line.</summary>
            public string Prompt { get; }

            /// <summary>A structured caption's object, as JSON; null for a plain caption.</summary>
            public string? Data { get; init; }
        }

        /// <summary>
        /// Appends one line with a single write and flushes it to disk. When the file ends in a line cut short by a
        /// crash, the new line starts on a line of its own, so one broken line never spoils the next.
        /// </summary>
        public static void Append(string imagePath, string text, string model, string prompt) => Append(imagePath, new[] { text }, model, prompt);

        /// <summary>Appends one line per caption, all in the same single write: an image's several captions land together or not at all.</summary>
        public static void Append(string imagePath, IReadOnlyList<string> texts, string model, string prompt, IReadOnlyList<string?>? data = null)
        {
            string path = PathFor(imagePath);
            using var buffer = new MemoryStream();
            for (int i = 0; i < texts.Count; i++)
            {
                using (var json = new Utf8JsonWriter(buffer, Options))
                {
                    json.WriteStartObject();
                    json.WriteString("text", texts[i]);
                    json.WriteString("model", model);
                    json.WriteString("prompt", prompt);
                    if (data is not null && i < data.Count && data[i] is string objectJson)
                    {
                        // A structured caption's object, as the model answered it and the schema checked it.
                        json.WritePropertyName("data");
                        json.WriteRawValue(objectJson, skipInputValidation: false);
                    }

                    json.WriteEndObject();
                }

                buffer.WriteByte((byte)'\n');
            }

            // Whole or not at all: the line goes in one write, and a failed write (a full disk) is cut back to the
            // length the file had, or the file removed if this call made it.
            bool existed = File.Exists(path);
            long before = -1;
            FileStream? stream = null;
            try
            {
                // Unbuffered, so a failed write leaves nothing pending that closing the file would try again.
                stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 1);
                before = stream.Length;
                byte[] line = buffer.ToArray();
                if (before > 0)
                {
                    stream.Seek(-1, SeekOrigin.End);
                    if (stream.ReadByte() != '\n')
                    {
                        line = new[] { (byte)'\n' }.Concat(line).ToArray();
                    }
                }

                stream.Seek(0, SeekOrigin.End);
                stream.Write(line, 0, line.Length);
                stream.Flush(flushToDisk: true);
                stream.Dispose();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                Undo(path, stream, existed, before);
                throw new CaptionException("CaptionWriteFailed", CaptionErrorCategory.WriteError, $"Cannot append to '{path}': {e.Message}", e);
            }
        }

        private static void Undo(string path, FileStream? stream, bool existed, long before)
        {
            try
            {
                if (stream is not null && before >= 0)
                {
                    stream.SetLength(before);
                }

                stream?.Dispose();
                if (!existed)
                {
                    File.Delete(path);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // Best effort: the caller reports the failed write either way.
            }
        }
    }
}
