using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace VlmCaption.Transport
{
    /// <summary>
    /// Reads a server's refusal of a request for what to send instead. Servers disagree on the answer limit's
    /// field and on temperature, and say so in their error text:
    /// OpenAI's reasoning models: "Unsupported parameter: 'max_tokens' is not supported with this model. Use
    /// 'max_completion_tokens' instead." and "Unsupported value: 'temperature' does not support 0.2 with this
    /// model. Only the default (1) value is supported." (microsoft/vscode-copilot-release#8065, chatboxai/chatbox#2564);
    /// Mistral and old vLLM: 422 extra_forbidden for max_completion_tokens (editor-code-assistant/eca#231);
    /// vLLM: "'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's maximum context length is
    /// 4096 tokens and your request has 2778 input tokens", older "... However, you requested 10778 tokens
    /// (2778 in the messages, 8000 in the completion)".
    /// </summary>
    internal static class RequestAdjustment
    {
        private static readonly Regex ContextLength = new Regex(@"maximum context length is (\d+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        private static readonly Regex InputTokens = new Regex(@"(\d+) input tokens|\((\d+) in the messages", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

        /// <summary>What the refusal asks for, or null when it is not about a field this client can change.</summary>
        public static Change? Read(int status, string text, EndpointQuirks sent)
        {
            string lower = text.ToLowerInvariant();
            if (sent.SendsResponseFormat && (Mentions(lower, "response_format") || Mentions(lower, "failed to initialize samplers")) && status is 400 or 422 or 500 or 200)
            {
                // llama.cpp before ggml-org/llama.cpp#9527 (and ik_llama.cpp until 2025-09, ikawrakow/ik_llama.cpp#778)
                // answer 500 "response_format type must be one of "text" or "json_object", but got: json_schema";
                // llama-server answers 400 "Failed to initialize samplers: ..." when the grammar it makes of the
                // schema cannot be built (tools/server/server-context.cpp), seen on the real server here.
                return new Change(ChangeKind.DropResponseFormat, "no response_format (the JSON schema is still asked for in the prompt, and checked)");
            }

            if (status != 400 && status != 422 && status != 200)
            {
                return null;
            }

            if (!sent.UseMaxCompletionTokens && Mentions(lower, "max_tokens") && (Mentions(lower, "max_completion_tokens") || Refuses(lower)) && !ContextLength.IsMatch(text))
            {
                return new Change(ChangeKind.UseMaxCompletionTokens, "max_completion_tokens instead of max_tokens");
            }

            if (sent.UseMaxCompletionTokens && Mentions(lower, "max_completion_tokens") && Refuses(lower) && !ContextLength.IsMatch(text))
            {
                return new Change(ChangeKind.UseMaxTokens, "max_tokens instead of max_completion_tokens");
            }

            if (sent.SendsStreamOptions && Mentions(lower, "stream_options"))
            {
                // Older servers (vLLM before 0.5, llama-cpp-python) refuse the field: "Unrecognized request argument supplied: stream_options".
                return new Change(ChangeKind.DropStreamOptions, "no stream_options (usage is then not reported while streaming)");
            }

            if (sent.SendsTemperature && Mentions(lower, "temperature") && (Refuses(lower) || lower.Contains("only the default")))
            {
                return new Change(ChangeKind.DropTemperature, "no temperature (the model takes only its default)");
            }

            Match context = ContextLength.Match(text);
            Match input = InputTokens.Match(text);
            if (context.Success && input.Success)
            {
                int window = int.Parse(context.Groups[1].Value, CultureInfo.InvariantCulture);
                int prompt = int.Parse(input.Groups[1].Success ? input.Groups[1].Value : input.Groups[2].Value, CultureInfo.InvariantCulture);
                int fits = window - prompt;
                return fits >= 1 && fits < sent.MaxTokens
                    ? new Change(ChangeKind.LowerLimit, $"an answer limit of {fits} tokens, what fits in the model's context of {window} after {prompt} prompt tokens") { Limit = fits }
                    : null;
            }

            return null;
        }

        private static bool Mentions(string lower, string field) => lower.IndexOf(field, StringComparison.Ordinal) >= 0;

        private static bool Refuses(string lower) =>
            lower.Contains("unsupported") || lower.Contains("not supported") || lower.Contains("extra_forbidden") || lower.Contains("extra inputs")
            || lower.Contains("not permitted") || lower.Contains("unknown") || lower.Contains("unrecognized") || lower.Contains("does not support");

        internal enum ChangeKind
        {
            UseMaxCompletionTokens,
            UseMaxTokens,
            DropTemperature,
            DropStreamOptions,
            DropResponseFormat,
            LowerLimit,
        }

        /// <summary>A change to the requests of one endpoint, with a phrase for the note that reports it.</summary>
        internal sealed class Change
        {
            public Change(ChangeKind kind, string description)
            {
                Kind = kind;
                Description = description;
            }

            public ChangeKind Kind { get; }

            public string Description { get; }

            public int Limit { get; set; }
        }
    }
}
