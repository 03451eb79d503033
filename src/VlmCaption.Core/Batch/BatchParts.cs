using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace VlmCaption.Batch
{
    /// <summary>
    /// The request files of one attempt of a round: JSONL lines {"custom_id", "method", "url", "body"} in the
    /// format OpenAI's Batch API, vLLM's run-batch, SGLang and LiteLLM read, split so that no file passes the
    /// provider's limits (OpenAI: 50 000 requests and 200 MB a file). Each part has its ids beside it, so the
    /// outputs can be checked for what is missing without reading the requests again.
    /// </summary>
    internal static class BatchParts
    {
        public const string Url = "/v1/chat/completions";

        private static readonly byte[] Newline = { (byte)'\n' };

        /// <summary>The part files already written in a folder, in order; empty when they are not all written yet.</summary>
        public static IReadOnlyList<string> Existing(string folder)
        {
            string marker = Path.Combine(folder, "parts.done");
            string? text = BatchFolder.ReadText(marker, 64);
            if (text is null)
            {
                return Array.Empty<string>();
            }

            if (!int.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int count) || count > 100_000)
            {
                throw BatchFolder.Invalid(marker, "is not a count of request files this module wrote");
            }

            return Enumerable.Range(1, count).Select(i => PartPath(folder, i)).ToList();
        }

        public static string PartPath(string folder, int part) => Path.Combine(folder, $"part-{part:D3}.jsonl");

        /// <summary>The custom ids of a part, in its order.</summary>
        public static IReadOnlyList<string> IdsOf(string part)
        {
            // At most 50 000 ids of under 100 bytes a part.
            string ids = Path.ChangeExtension(part, ".ids");
            return (BatchFolder.ReadText(ids, 16 << 20) ?? throw BatchFolder.Invalid(ids, "is missing"))
                .Split(new[] { '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries);
        }

        /// <summary>
        /// Writes the requests into parts within the limits; a request that alone passes the byte limit is given to
        /// <paramref name="tooLarge"/> instead. Returns the parts (none when every request was too large).
        /// </summary>
        public static IReadOnlyList<string> Write(string folder, IEnumerable<(string CustomId, ReadOnlyMemory<byte> Body)> requests, int maxRequests, long maxBytes, Action<string, long> tooLarge)
        {
            Directory.CreateDirectory(folder);
            var parts = new List<string>();
            FileStream? current = null;
            string temporary = "";
            var ids = new List<string>();
            long bytes = 0;
            try
            {
                foreach ((string customId, ReadOnlyMemory<byte> body) in requests)
                {
                    byte[] head = Encoding.UTF8.GetBytes($"{{\"custom_id\":\"{customId}\",\"method\":\"POST\",\"url\":\"{Url}\",\"body\":");
                    byte[] tail = Encoding.ASCII.GetBytes("}\n");
                    long size = head.Length + body.Length + tail.Length;
                    if (size > maxBytes)
                    {
                        tooLarge(customId, size);
                        continue;
                    }

                    if (current is not null && (ids.Count >= maxRequests || bytes + size > maxBytes))
                    {
                        Close();
                    }

                    if (current is null)
                    {
                        temporary = Output.CaptionFile.TemporaryPathIn(folder);
                        current = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None);
                        bytes = 0;
                    }

                    current.Write(head, 0, head.Length);
                    if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(body, out ArraySegment<byte> segment))
                    {
                        current.Write(segment.Array!, segment.Offset, segment.Count);
                    }
                    else
                    {
                        byte[] array = body.ToArray();
                        current.Write(array, 0, array.Length);
                    }

                    current.Write(tail, 0, tail.Length);
                    bytes += size;
                    ids.Add(customId);
                }

                if (current is not null)
                {
                    Close();
                }
            }
            finally
            {
                if (current is not null)
                {
                    // Stopped part-way: the unfinished part goes, and the round is written again next time.
                    current.Dispose();
                    File.Delete(temporary);
                }
            }

            BatchFolder.WriteWhole(Path.Combine(folder, "parts.done"), parts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return parts;

            void Close()
            {
                string path = PartPath(folder, parts.Count + 1);
                current!.Flush(flushToDisk: true);
                current.Dispose();
                current = null;
                BatchFolder.WriteWhole(Path.ChangeExtension(path, ".ids"), string.Join("\n", ids) + "\n");
                Output.CaptionFile.Commit(temporary, path, overwrite: true);
                parts.Add(path);
                ids.Clear();
            }
        }

        // The files beside a part: its output and error files, the mark that its batch ended, the ids of what was
        // submitted for it (file_id, batch_id).
        internal static string OutputPath(string part) => Path.ChangeExtension(part, ".output.jsonl");

        internal static string ErrorsPath(string part) => Path.ChangeExtension(part, ".errors.jsonl");

        internal static string Finished(string part) => Path.ChangeExtension(part, ".finished");

        internal static string IdsPath(string part) => Path.ChangeExtension(part, ".batch.json");

        internal static Dictionary<string, string> ReadIds(string part)
        {
            string? text = BatchFolder.ReadText(IdsPath(part), 64 << 10);
            if (text is null)
            {
                return new Dictionary<string, string>();
            }

            try
            {
                return JsonSerializer.Deserialize<Dictionary<string, string>>(text) ?? throw new JsonException("null");
            }
            catch (JsonException)
            {
                throw BatchFolder.Invalid(IdsPath(part), "is not the ids of a submitted batch this module wrote");
            }
        }

        internal static void WriteIds(string part, Dictionary<string, string> ids) => BatchFolder.WriteWhole(IdsPath(part), JsonSerializer.Serialize(ids));
    }
}
