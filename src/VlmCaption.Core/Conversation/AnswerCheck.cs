using System;
using VlmCaption.Transport;

namespace VlmCaption.Conversation
{
    /// <summary>
    /// Decides from an answer's finish reason and fields whether it is a whole answer, one cut off by the limit,
    /// or a failure; a failure never becomes a caption.
    /// </summary>
    internal static class AnswerCheck
    {
        /// <summary>How a finish reason reads.</summary>
        internal enum Outcome
        {
            Complete,
            Truncated,
            Failed,
            Unknown,
        }

        /// <summary>
        /// length (OpenAI and most), model_length (Mistral), max_tokens and max_output_tokens are the limit;
        /// error (OpenRouter, Mistral), abort (SGLang), content_filter and safety are failures; stop, eos,
        /// end_turn, stop_sequence, tool_calls and none reported are whole answers.
        /// </summary>
        public static Outcome Classify(string finishReason)
        {
            switch (finishReason.ToLowerInvariant())
            {
                case "":
                case "stop":
                case "eos":
                case "end_turn":
                case "stop_sequence":
                case "tool_calls":
                case "function_call":
                    return Outcome.Complete;
                case "length":
                case "model_length":
                case "max_tokens":
                case "max_output_tokens":
                    return Outcome.Truncated;
                case "error":
                case "abort":
                case "content_filter":
                case "safety":
                    return Outcome.Failed;
                default:
                    return Outcome.Unknown;
            }
        }

        /// <summary>Throws when the answer cannot stand as a turn: the server ended it with an error, or the model only reasoned.</summary>
        /// <param name="answer">The answer.</param>
        /// <param name="cleaned">Its content after cleaning.</param>
        /// <param name="where">"'image.png', turn 2 of 3", for the message.</param>
        /// <param name="maxTokens">The limit sent, for the advice.</param>
        /// <param name="log">Receives a note for a finish reason this client does not know.</param>
        public static void Check(ChatAnswer answer, string cleaned, string where, int maxTokens, Action<string>? log)
        {
            Outcome outcome = Classify(answer.FinishReason);
            if (outcome == Outcome.Failed)
            {
                string said = answer.ChoiceError is string text && text.Length > 0 ? $": {text.TrimEnd('.')}." : ".";
                bool filtered = answer.FinishReason.Equals("content_filter", StringComparison.OrdinalIgnoreCase) || answer.FinishReason.Equals("safety", StringComparison.OrdinalIgnoreCase);
                throw new CaptionException(
                    filtered ? "ContentFiltered" : "AnswerFailed",
                    CaptionErrorCategory.InvalidResult,
                    $"The server ended the answer for {where} with finish_reason '{answer.FinishReason}'{said} Nothing was saved.");
            }

            if (outcome == Outcome.Unknown)
            {
                log?.Invoke($"The finish_reason '{answer.FinishReason}' is not one VlmCaption knows; the answer is taken as whole.");
            }

            if (cleaned.Length == 0 && outcome == Outcome.Truncated && string.IsNullOrEmpty(answer.ReasoningContent) && !(answer.ReasoningTokens > 0))
            {
                // Gemini 2.5 and other thinking models may spend the whole limit on reasoning they neither show nor count.
                throw new CaptionException(
                    "EmptyCaption",
                    CaptionErrorCategory.InvalidResult,
                    $"The model wrote nothing for {where} before the answer limit of {maxTokens} tokens ran out (finish_reason '{answer.FinishReason}'). A model that thinks (Gemini 2.5, OpenAI's o-series, Qwen3) may have spent the limit on reasoning it does not show. Raise -MaxTokens (max_tokens), or turn reasoning down: -ReasoningEffort low or none. Nothing was saved.");
            }

            if (cleaned.Length == 0 && (!string.IsNullOrEmpty(answer.ReasoningContent) || answer.ReasoningTokens > 0))
            {
                string why = outcome == Outcome.Truncated ? $"the answer limit of {maxTokens} tokens ran out while it was reasoning" : "it put everything in its reasoning";
                string amount = string.IsNullOrEmpty(answer.ReasoningContent) ? $"{answer.ReasoningTokens} reasoning tokens" : $"{answer.ReasoningContent!.Length} characters of reasoning, kept out of the caption";
                throw new CaptionException(
                    "ReasoningOnly",
                    CaptionErrorCategory.InvalidResult,
                    $"The model gave no answer for {where}: {why} ({amount}). Raise -MaxTokens (max_tokens), or turn reasoning off: -ReasoningEffort none, or -AdditionalBody @{{ chat_template_kwargs = @{{ enable_thinking = $false }} }} for Qwen3-style templates. Nothing was saved.");
            }
        }
    }
}
