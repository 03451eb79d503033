using System;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption.Transport
{
    /// <summary>
    /// Reads a chat completion sent as Server-Sent Events, chunk by chunk: the answer's deltas, reasoning deltas
    /// kept apart (reasoning_content, reasoning, Magistral's thinking parts), the finish reason, usage, and errors
    /// sent inside the stream (LM Studio's {"error": ...} events, OpenRouter's choices[].error). Nothing is held past
    /// the answer limit in bytes, and a stream that stops before [DONE] without a finish reason is a dropped connection.
    /// </summary>
    internal sealed class StreamedAnswer
    {
        private readonly StringBuilder content = new StringBuilder();
        private readonly StringBuilder reasoning = new StringBuilder();
        private readonly long maxAnswerChars;
        private readonly Action<int>? onTokens;
        private string finishReason = "";
        private string? choiceError;
        private int? promptTokens;
        private int? completionTokens;
        private int? reasoningTokens;

        private StreamedAnswer(long maxAnswerChars, Action<int>? onTokens)
        {
            this.maxAnswerChars = maxAnswerChars;
            this.onTokens = onTokens;
        }

        /// <summary>
        /// Reads the whole stream; throws <see cref="CaptionException"/> (AnswerTooLarge, ConnectionFailed),
        /// <see cref="FormatException"/> for a chunk that is not JSON, or <see cref="ServerErrorAnswer"/>.
        /// </summary>
        /// <param name="stream">The response body.</param>
        /// <param name="baseUrl">The endpoint, for messages.</param>
        /// <param name="maxAnswerBytes">The most answer and reasoning text taken, in bytes of UTF-8.</param>
        /// <param name="onTokens">Told of each chunk that carried text (a chunk is about a token).</param>
        /// <param name="cancellationToken">Cancels the read.</param>
        public static async Task<ChatAnswer> ReadAsync(Stream stream, string baseUrl, long maxAnswerBytes, Action<int>? onTokens, CancellationToken cancellationToken)
        {
            var answer = new StreamedAnswer(maxAnswerBytes, onTokens);
            var lines = new LineReader(stream, maxAnswerBytes + 65536);
            bool done = false;
            while (!done)
            {
                byte[]? line = await lines.NextAsync(cancellationToken).ConfigureAwait(false);
                if (line is null)
                {
                    break;
                }

                if (line.Length == 0 && lines.TooLong)
                {
                    throw TooLarge(baseUrl, maxAnswerBytes);
                }

                done = answer.Take(line, baseUrl, maxAnswerBytes);
            }

            if (!done && answer.finishReason.Length == 0)
            {
                throw new CaptionException("ConnectionFailed", CaptionErrorCategory.ConnectionError, $"{baseUrl} ended the stream before it finished (no finish_reason and no [DONE]), after {answer.content.Length} characters; the connection was dropped.");
            }

            return ChatAnswer.FromParts(answer.content.ToString(), answer.reasoning.Length > 0 ? answer.reasoning.ToString() : null, answer.finishReason, answer.choiceError, answer.promptTokens, answer.completionTokens, answer.reasoningTokens);
        }

        internal static CaptionException TooLarge(string baseUrl, long maxAnswerBytes) =>
            new CaptionException("AnswerTooLarge", CaptionErrorCategory.LimitsExceeded, $"{baseUrl} sent an answer of more than {maxAnswerBytes / 1048576.0:0.##} MiB (-MaxAnswerBytes); reading stopped there and nothing was saved. A model that does not stop needs a lower -MaxTokens; a caption this long needs a higher -MaxAnswerBytes.");

        /// <summary>Takes one line of the stream; true at [DONE].</summary>
        private bool Take(byte[] line, string baseUrl, long maxAnswerBytes)
        {
            // Only "data:" fields matter; comments (": keep-alive"), "event:" and "id:" lines are passed over.
            if (line.Length < 5 || line[0] != (byte)'d' || line[1] != (byte)'a' || line[2] != (byte)'t' || line[3] != (byte)'a' || line[4] != (byte)':')
            {
                return false;
            }

            var data = new ReadOnlyMemory<byte>(line, 5, line.Length - 5);
            while (data.Length > 0 && data.Span[0] == (byte)' ')
            {
                data = data.Slice(1);
            }

            if (data.Span.SequenceEqual("[DONE]"u8))
            {
                return true;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(data);
            }
            catch (JsonException e)
            {
                // Like a malformed whole answer: a protocol error worth another try.
                throw new FormatException($"a stream chunk is not valid JSON: {e.Message}", e);
            }

            using (document)
            {
                try
                {
                    TakeChunk(document.RootElement, data);
                }
                catch (InvalidOperationException e)
                {
                    // GetString refuses text that is not valid UTF-8: the server's fault, not a bug of ours.
                    throw new FormatException($"a stream chunk is not valid UTF-8 text: {e.Message}", e);
                }
            }

            // Characters count as the bytes they take at least; the line reader bounds the bytes of one chunk.
            if (content.Length + reasoning.Length > maxAnswerChars)
            {
                throw TooLarge(baseUrl, maxAnswerBytes);
            }

            return false;
        }

        private void TakeChunk(JsonElement root, ReadOnlyMemory<byte> data)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (root.TryGetProperty("error", out _) && !root.TryGetProperty("choices", out _))
            {
                throw new ServerErrorAnswer(ServerError.ReadMessage(data));
            }

            if (root.TryGetProperty("choices", out JsonElement choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
            {
                TakeChoice(choices[0]);
            }

            // Usually only the last chunk has usage (stream_options.include_usage); keep what earlier ones said.
            (int? prompt, int? completion, int? reasoned) = ChatAnswer.ReadUsage(root);
            promptTokens = prompt ?? promptTokens;
            completionTokens = completion ?? completionTokens;
            reasoningTokens = reasoned ?? reasoningTokens;
        }

        private void TakeChoice(JsonElement choice)
        {
            int before = content.Length + reasoning.Length;
            if (choice.TryGetProperty("delta", out JsonElement delta) && delta.ValueKind == JsonValueKind.Object)
            {
                reasoning.Append(ChatAnswer.ReadString(delta, "reasoning_content") ?? ChatAnswer.ReadString(delta, "reasoning"));
                content.Append(ChatAnswer.ReadContent(delta, reasoning));
            }

            if (ChatAnswer.ReadString(choice, "finish_reason") is string finish && finish.Length > 0)
            {
                finishReason = finish;
            }

            if (choice.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object)
            {
                choiceError = ChatAnswer.ReadString(error, "message") ?? error.GetRawText();
            }

            if (content.Length + reasoning.Length > before)
            {
                onTokens?.Invoke(1);
            }
        }

        /// <summary>Splits a stream into lines without ever holding one longer than a limit.</summary>
        private sealed class LineReader
        {
            private readonly Stream stream;
            private readonly long maxLine;
            private readonly byte[] buffer = new byte[16384];
            private readonly MemoryStream line = new MemoryStream();
            private int start;
            private int end;

            public LineReader(Stream stream, long maxLine)
            {
                this.stream = stream;
                this.maxLine = maxLine;
            }

            /// <summary>Set when a line was longer than the limit; that line comes back empty.</summary>
            public bool TooLong { get; private set; }

            /// <summary>The next line without its end (\n or \r\n), or null at the end of the stream.</summary>
            public async Task<byte[]?> NextAsync(CancellationToken cancellationToken)
            {
                line.SetLength(0);
                while (true)
                {
                    if (start == end)
                    {
                        start = 0;
                        end = await stream.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
                        if (end == 0)
                        {
                            return line.Length > 0 ? line.ToArray() : null;
                        }
                    }

                    int newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
                    int stop = newline < 0 ? end : newline;
                    if (line.Length + (stop - start) > maxLine)
                    {
                        TooLong = true;
                        return Array.Empty<byte>();
                    }

                    line.Write(buffer, start, stop - start);
                    start = newline < 0 ? end : newline + 1;
                    if (newline >= 0)
                    {
                        byte[] text = line.ToArray();
                        return text.Length > 0 && text[text.Length - 1] == (byte)'\r' ? text.AsSpan(0, text.Length - 1).ToArray() : text;
                    }
                }
            }
        }
    }
}
