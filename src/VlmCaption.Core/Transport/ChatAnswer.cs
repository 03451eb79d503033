using System;
using System.Text.Json;

namespace VlmCaption.Transport
{
    /// <summary>The parts of a chat completion response the engine uses.</summary>
    internal sealed class ChatAnswer
    {
        public string Content { get; private set; } = "";

        public string? ReasoningContent { get; private set; }

        public string FinishReason { get; private set; } = "";

        public int? PromptTokens { get; private set; }

        public int? CompletionTokens { get; private set; }

        /// <summary>Reads a non-streaming response; throws <see cref="FormatException"/> when it is not one.</summary>
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
                JsonElement root = document.RootElement;
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
                    answer.Content = ReadContent(message);
                    answer.ReasoningContent = ReadString(message, "reasoning_content") ?? ReadString(message, "reasoning");
                }

                answer.FinishReason = ReadString(choice, "finish_reason") ?? "";
                if (root.TryGetProperty("usage", out JsonElement usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    answer.PromptTokens = ReadInt(usage, "prompt_tokens");
                    answer.CompletionTokens = ReadInt(usage, "completion_tokens");
                }

                return answer;
            }
        }

        // Content is usually a string; some servers send an array of text parts.
        private static string ReadContent(JsonElement message)
        {
            if (!message.TryGetProperty("content", out JsonElement content))
            {
                return "";
            }

            if (content.ValueKind == JsonValueKind.String)
            {
                return content.GetString() ?? "";
            }

            if (content.ValueKind == JsonValueKind.Array)
            {
                var text = new System.Text.StringBuilder();
                foreach (JsonElement part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && ReadString(part, "text") is string piece)
                    {
                        text.Append(piece);
                    }
                }

                return text.ToString();
            }

            return "";
        }

        private static string? ReadString(JsonElement element, string name) =>
            element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        private static int? ReadInt(JsonElement element, string name) =>
            element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) ? number : null;
    }
}
