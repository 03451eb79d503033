using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace VlmCaption.Batch
{
    /// <summary>
    /// One line of a batch's output or error file: {"id", "custom_id", "response": {"status_code", "request_id",
    /// "body"}, "error": {"code", "message"}} (OpenAI's Batch API; vLLM's run-batch writes the same, errors included).
    /// </summary>
    internal sealed class BatchOutcome
    {
        public string CustomId { get; set; } = "";

        /// <summary>The HTTP status of the request, 0 when it was never run (an expired or cancelled batch).</summary>
        public int Status { get; set; }

        /// <summary>The response body as UTF-8 JSON, when there is one.</summary>
        public byte[]? Body { get; set; }

        public string ErrorCode { get; set; } = "";

        public string ErrorMessage { get; set; } = "";

        /// <summary>The provider's id of the request (response.request_id), which its support asks for; "" when none.</summary>
        public string RequestId { get; set; } = "";

        /// <summary>" (request id …)" for a message, or "".</summary>
        public string RequestIdNote => RequestId.Length > 0 ? $" (request id {RequestId})" : "";

        /// <summary>The code of an answer line longer than the answer limit: its image fails alone (AnswerTooLarge).</summary>
        public const string TooLarge = "vlmcaption_answer_too_large";
    }

    /// <summary>Reads output files line by line, never holding more than one line and never a line past the bound.</summary>
    internal static class BatchOutput
    {
        /// <summary>The outcomes of a file; a line that is not JSON or passes <paramref name="maxLineBytes"/> is told to <paramref name="skipped"/>.</summary>
        public static IEnumerable<BatchOutcome> Read(string path, long maxLineBytes, Action<string> skipped)
        {
            // A file of size 0 holds no line, and is not opened: a FIFO put in its place would block the open.
            if (RegularFile.Check(path, long.MaxValue) != RegularFile.Kind.Readable)
            {
                yield break;
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            int number = 0;
            while (ReadLine(stream, maxLineBytes, out byte[]? line, out bool tooLong))
            {
                number++;
                if (tooLong)
                {
                    // The line's custom_id comes first ({"id", "custom_id", "response"}): its image fails alone.
                    System.Text.RegularExpressions.Match id = IdInPrefix.Match(Encoding.UTF8.GetString(line!));
                    if (id.Success)
                    {
                        yield return new BatchOutcome { CustomId = id.Groups[1].Value, ErrorCode = BatchOutcome.TooLarge, ErrorMessage = $"its answer is longer than {maxLineBytes} bytes" };
                    }
                    else
                    {
                        skipped($"line {number} of '{path}' is longer than {maxLineBytes} bytes and names no request in its first bytes; it was not read");
                    }

                    continue;
                }

                BatchOutcome? outcome = Parse(line!);
                if (outcome is null)
                {
                    if (line!.Length > 0)
                    {
                        skipped($"line {number} of '{path}' is not an output line");
                    }

                    continue;
                }

                yield return outcome;
            }
        }

        private static readonly System.Text.RegularExpressions.Regex IdInPrefix =
            new System.Text.RegularExpressions.Regex("\"custom_id\"\\s*:\\s*\"([A-Za-z0-9_.:-]{1,200})\"", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        // How much of an overlong line is kept, to find its custom_id.
        private const int PrefixBytes = 4096;

        private static BatchOutcome? Parse(byte[] line)
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(line);
                JsonElement root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("custom_id", out JsonElement id) || id.ValueKind != JsonValueKind.String)
                {
                    return null;
                }

                var outcome = new BatchOutcome { CustomId = id.GetString()! };
                if (root.TryGetProperty("response", out JsonElement response) && response.ValueKind == JsonValueKind.Object)
                {
                    if (response.TryGetProperty("status_code", out JsonElement status) && status.TryGetInt32(out int code))
                    {
                        outcome.Status = code;
                    }

                    if (response.TryGetProperty("request_id", out JsonElement requestId) && requestId.ValueKind == JsonValueKind.String)
                    {
                        outcome.RequestId = requestId.GetString()!;
                    }

                    if (response.TryGetProperty("body", out JsonElement body) && body.ValueKind != JsonValueKind.Null)
                    {
                        outcome.Body = Encoding.UTF8.GetBytes(body.ValueKind == JsonValueKind.String ? body.GetString()! : body.GetRawText());
                    }
                }

                if (root.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object)
                {
                    // vLLM's run-batch writes its ErrorResponse whole: {"error": {"error": {"message", "type", "code": 400}}}
                    // (vllm/entrypoints/openai/run_batch.py, run_request); OpenAI writes {"code", "message"}.
                    if (error.TryGetProperty("error", out JsonElement inner) && inner.ValueKind == JsonValueKind.Object)
                    {
                        error = inner;
                    }

                    outcome.ErrorCode = error.TryGetProperty("code", out JsonElement c) ? c.ValueKind == JsonValueKind.String ? c.GetString()! : c.ValueKind == JsonValueKind.Number ? c.GetRawText() : "" : "";
                    outcome.ErrorMessage = error.TryGetProperty("message", out JsonElement m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
                }
                else if (root.TryGetProperty("error", out JsonElement text) && text.ValueKind == JsonValueKind.String)
                {
                    outcome.ErrorMessage = text.GetString()!;
                }

                return outcome;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>The next line without its newline; false at the end. A line past the bound is read through and reported as too long.</summary>
        internal static bool ReadLine(Stream stream, long maxLineBytes, out byte[]? line, out bool tooLong)
        {
            var buffer = new MemoryStream();
            tooLong = false;
            line = null;
            int next;
            bool any = false;
            while ((next = stream.ReadByte()) >= 0)
            {
                any = true;
                if (next == '\n')
                {
                    break;
                }

                if (buffer.Length < maxLineBytes)
                {
                    buffer.WriteByte((byte)next);
                }
                else
                {
                    tooLong = true;
                }
            }

            if (!any)
            {
                return false;
            }

            // Of an overlong line only its first bytes are handed on, where its custom_id is.
            line = tooLong ? buffer.GetBuffer().AsSpan(0, (int)Math.Min(buffer.Length, PrefixBytes)).ToArray() : buffer.ToArray();
            return true;
        }
    }
}
