using System;
using System.IO;
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

        /// <summary>True when the file holds a complete line with this model and prompt; broken lines are ignored.</summary>
        public static bool HasCaption(string imagePath, string model, string prompt)
        {
            string path = PathFor(imagePath);
            if (!File.Exists(path))
            {
                return false;
            }

            foreach (string line in File.ReadAllLines(path, Encoding.UTF8))
            {
                try
                {
                    using JsonDocument document = JsonDocument.Parse(line);
                    JsonElement root = document.RootElement;
                    if (root.ValueKind == JsonValueKind.Object
                        && root.TryGetProperty("model", out JsonElement m) && m.ValueKind == JsonValueKind.String && m.GetString() == model
                        && root.TryGetProperty("prompt", out JsonElement p) && p.ValueKind == JsonValueKind.String && p.GetString() == prompt
                        && root.TryGetProperty("text", out JsonElement t) && t.ValueKind == JsonValueKind.String && t.GetString()!.Length > 0)
                    {
                        return true;
                    }
                }
                catch (JsonException)
                {
                    // A line cut short by a crash: not a caption.
                }
            }

            return false;
        }

        /// <summary>
        /// Appends one line with a single write and flushes it to disk. When the file ends in a line cut short by a
        /// crash, the new line starts on a line of its own, so one broken line never spoils the next.
        /// </summary>
        public static void Append(string imagePath, string text, string model, string prompt)
        {
            string path = PathFor(imagePath);
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, Options))
            {
                json.WriteStartObject();
                json.WriteString("text", text);
                json.WriteString("model", model);
                json.WriteString("prompt", prompt);
                json.WriteEndObject();
            }

            buffer.WriteByte((byte)'\n');
            try
            {
                using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
                if (stream.Length > 0)
                {
                    stream.Seek(-1, SeekOrigin.End);
                    if (stream.ReadByte() != '\n')
                    {
                        stream.WriteByte((byte)'\n');
                    }
                }

                stream.Seek(0, SeekOrigin.End);
                stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                stream.Flush(flushToDisk: true);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CaptionException("CaptionWriteFailed", CaptionErrorCategory.WriteError, $"Cannot append to '{path}': {e.Message}", e);
            }
        }
    }
}
