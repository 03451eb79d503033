using System;
using System.Text;
using System.Text.Json;

namespace VlmCaption.Transport
{
    /// <summary>The parts of a chat completion response the engine uses, read the way the servers really write them.</summary>
    internal sealed class ChatAnswer
    {
        /// <summary>The answer text: a string, or the text parts of a content array (thinking parts left out).</summary>
        public string Content { get; private set; } = "";

        /// <summary>
        /// Reasoning kept apart from the answer: reasoning_content (llama.cpp, vLLM, LM Studio, TabbyAPI, SGLang),
        /// reasoning (Ollama, OpenRouter, newer vLLM, LM Studio's gpt-oss) or Magistral's thinking parts.
        /// </summary>
        public string? ReasoningContent { get; private set; }

        public string FinishReason { get; private set; } = "";

        /// <summary>The server's error text inside a choice (OpenRouter's choices[].error), if any.</summary>
        public string? ChoiceError { get; private set; }

        public int? PromptTokens { get; private set; }

        public int? CompletionTokens { get; private set; }

        /// <summary>usage.completion_tokens_details.reasoning_tokens: OpenAI counts reasoning it does not return.</summary>
        public int? ReasoningTokens { get; private set; }

        /// <summary>An answer put together from a stream's chunks.</summary>
        internal static ChatAnswer FromParts(string content, string? reasoning, string finishReason, string? choiceError, int? promptTokens, int? completionTokens, int? reasoningTokens) => new ChatAnswer
        {
            Content = content,
            ReasoningContent = reasoning,
            FinishReason = finishReason,
            ChoiceError = choiceError,
            PromptTokens = promptTokens,
            CompletionTokens = completionTokens,
            ReasoningTokens = reasoningTokens,
        };

        /// <summary>
        /// Reads a non-streaming response. Throws <see cref="FormatException"/> when it is not one, and
        /// <see cref="ServerErrorAnswer"/> when it is an error object sent with a success status (LM Studio does this).
        /// </summary>
        public static ChatAnswer Parse(ReadOnlyMemory<byte> body)
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body);
            }
            catch (JsonException e)
            {
                throw new FormatException($"The server's answer is not valid JSON: {e.Message}", e);
            }

            using (document)
            {
                try
                {
                    return Read(document.RootElement, body);
                }
                catch (InvalidOperationException e)
                {
                    // GetString refuses text that is not valid UTF-8: the server's fault, not a bug of ours.
                    throw new FormatException($"The server's answer is not valid UTF-8 text: {e.Message}", e);
                }
            }
        }

        private static ChatAnswer Read(JsonElement root, ReadOnlyMemory<byte> body)
        {
            if (root.ValueKind == JsonValueKind.Object && !root.TryGetProperty("choices", out _) && root.TryGetProperty("error", out _))
            {
                // lmstudio-ai/lms#362: HTTP 200 with {"error": {"message": ...}} for a missing vision add-on or context overflow.
                throw new ServerErrorAnswer(ServerError.ReadMessage(body));
            }

            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("choices", out JsonElement choices)
                || choices.ValueKind != JsonValueKind.Array
                || choices.GetArrayLength() == 0)
            {
                throw new FormatException("The server's answer has no choices.");
            }

            JsonElement choice = choices[0];
            var answer = new ChatAnswer();
            if (choice.TryGetProperty("message", out JsonElement message) && message.ValueKind == JsonValueKind.Object)
            {
                var reasoning = new StringBuilder(ReadString(message, "reasoning_content") ?? ReadString(message, "reasoning") ?? "");
                answer.Content = ReadContent(message, reasoning);
                answer.ReasoningContent = reasoning.Length > 0 ? reasoning.ToString() : null;
            }

            answer.FinishReason = ReadString(choice, "finish_reason") ?? "";
            if (choice.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object)
            {
                answer.ChoiceError = ReadString(error, "message") ?? error.GetRawText();
            }

            (answer.PromptTokens, answer.CompletionTokens, answer.ReasoningTokens) = ReadUsage(root);
            return answer;
        }

        // Content is usually a string. Some servers send an array of parts: only text parts are the answer;
        // Mistral's Magistral sends [{"type":"thinking","thinking":[{"type":"text","text":...}]}, {"type":"text",...}].
        internal static string ReadContent(JsonElement message, StringBuilder reasoning)
        {
            if (!message.TryGetProperty("content", out JsonElement content))
            {
                return "";
            }

            if (content.ValueKind == JsonValueKind.String)
            {
                return content.GetString() ?? "";
            }

            if (content.ValueKind != JsonValueKind.Array)
            {
                return "";
            }

            var text = new StringBuilder();
            foreach (JsonElement part in content.EnumerateArray())
            {
                if (part.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                string type = ReadString(part, "type") ?? "text";
                if (type == "text" || type == "output_text")
                {
                    text.Append(ReadString(part, "text"));
                }
                else if (type == "thinking" || type == "reasoning")
                {
                    AppendThinking(part.TryGetProperty(type, out JsonElement inner) ? inner : part, reasoning);
                }
            }

            return text.ToString();
        }

        private static void AppendThinking(JsonElement thinking, StringBuilder reasoning)
        {
            switch (thinking.ValueKind)
            {
                case JsonValueKind.String:
                    reasoning.Append(thinking.GetString());
                    break;
                case JsonValueKind.Array:
                    foreach (JsonElement item in thinking.EnumerateArray())
                    {
                        AppendThinking(item, reasoning);
                    }

                    break;
                case JsonValueKind.Object:
                    reasoning.Append(ReadString(thinking, "text"));
                    break;
            }
        }

        /// <summary>usage's prompt, completion and reasoning tokens (completion_tokens_details.reasoning_tokens), each null when not reported.</summary>
        internal static (int? Prompt, int? Completion, int? Reasoning) ReadUsage(JsonElement root)
        {
            if (!root.TryGetProperty("usage", out JsonElement usage) || usage.ValueKind != JsonValueKind.Object)
            {
                return (null, null, null);
            }

            int? reasoning = usage.TryGetProperty("completion_tokens_details", out JsonElement details) && details.ValueKind == JsonValueKind.Object
                ? ReadInt(details, "reasoning_tokens")
                : null;
            return (ReadInt(usage, "prompt_tokens"), ReadInt(usage, "completion_tokens"), reasoning);
        }

        internal static string? ReadString(JsonElement element, string name) =>
            element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        internal static int? ReadInt(JsonElement element, string name) =>
            element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) ? number : null;
    }

    /// <summary>An error object the server sent with a success status.</summary>
    internal sealed class ServerErrorAnswer : Exception
    {
        public ServerErrorAnswer(string serverText)
            : base(serverText)
        {
        }
    }
}
