using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using VlmCaption.Images;
using VlmCaption.Transport;

namespace VlmCaption.Conversation
{
    /// <summary>What one image's conversation produced.</summary>
    internal sealed class ConversationOutcome
    {
        public List<CaptionTurn> Turns { get; } = new List<CaptionTurn>();

        /// <summary>The turn whose answer is the caption: the last prompt's, or a retry's that no longer has a banned phrase.</summary>
        public CaptionTurn CaptionTurn { get; set; } = null!;

        /// <summary>The message list after each turn as JSON, image data replaced; empty unless asked for.</summary>
        public List<string> History { get; } = new List<string>();
    }

    /// <summary>Runs the chain of prompts for one image, then the retry rules.</summary>
    internal static class ImageConversation
    {
        /// <summary>The first user text: the hints, a blank line, then prompt 1 (prompt 1 alone without hints).</summary>
        public static string FirstTurnText(IReadOnlyList<string> hints, string prompt) =>
            hints.Count == 0 ? prompt : string.Join("\n", hints) + "\n\n" + prompt;

        /// <summary>The system message: global metadata, one newline, the system prompt; null when both are empty.</summary>
        public static string? SystemText(string? globalMetadata, string systemPrompt)
        {
            if (!string.IsNullOrEmpty(globalMetadata))
            {
                return systemPrompt.Length == 0 ? globalMetadata : globalMetadata + "\n" + systemPrompt;
            }

            return systemPrompt.Length == 0 ? null : systemPrompt;
        }

        private static string Begin(string text)
        {
            string line = text.Replace('\n', ' ').Replace('\r', ' ');
            return line.Length > 120 ? line.Substring(0, 120) + "…" : line;
        }

        /// <summary>The phrases of a rule that the text contains, ignoring case, in the rule's order.</summary>
        public static List<string> BannedPhrasesIn(string text, RetryRule rule) =>
            rule.Phrases.Where(phrase => text.IndexOf(phrase, StringComparison.OrdinalIgnoreCase) >= 0).ToList();

        public static async Task<ConversationOutcome> RunAsync(
            ChatEndpoint endpoint,
            CaptionSettings settings,
            string? globalMetadata,
            CaptionJob job,
            PreparedImage image,
            Action<string>? log,
            CancellationToken cancellationToken)
        {
            var outcome = new ConversationOutcome();
            var messages = new List<ChatMessage>();
            if (SystemText(globalMetadata, settings.SystemPrompt) is string system)
            {
                messages.Add(ChatMessage.System(system));
            }

            int requests = settings.Prompts.Count;
            for (int i = 0; i < settings.Prompts.Count; i++)
            {
                string prompt = settings.PromptSent(i);
                ChatMessage user = i == 0 ? ChatMessage.User(FirstTurnText(job.Hints, prompt), image) : ChatMessage.User(prompt);
                outcome.CaptionTurn = await TurnAsync(settings.Prompts[i], user, $"Turn {i + 1} of {requests}", settings.AsksSchemaAt(i)).ConfigureAwait(false);
            }

            // The original retried only with two or more prompts and kept the retry answer whatever it said.
            foreach (RetryRule rule in settings.RetryRules)
            {
                List<string> found = BannedPhrasesIn(outcome.CaptionTurn.Response, rule);
                if (found.Count == 0)
                {
                    continue;
                }

                string note = rule.RejectionNote.Replace("[phrases]", string.Join(", ", found));
                CaptionTurn retry = await TurnAsync(note, ChatMessage.User(note), $"Retry rule '{rule.RuleName}' for {string.Join(", ", found)}").ConfigureAwait(false);
                if (retry.Response.Length > 0 && BannedPhrasesIn(retry.Response, rule).Count == 0)
                {
                    outcome.CaptionTurn = retry;
                }
                else
                {
                    log?.Invoke($"The answer to retry rule '{rule.RuleName}' still has a banned phrase; the earlier caption is kept.");
                }
            }

            return outcome;

            async Task<CaptionTurn> TurnAsync(string prompt, ChatMessage user, string label, bool schemaTurn = false)
            {
                messages.Add(user);
                var clock = Stopwatch.StartNew();
                ChatAnswer answer;
                string response;
                for (int attempt = 0; ; attempt++)
                {
                    answer = await endpoint.CompleteAsync(messages, log, cancellationToken, schemaTurn).ConfigureAwait(false);
                    response = AnswerCleaner.Clean(answer.Content);
                    AnswerCheck.Check(answer, response, $"'{job.Path}', {label.ToLowerInvariant()}", endpoint.Quirks.MaxTokens, log);
                    if (!schemaTurn)
                    {
                        break;
                    }

                    // The caption turn's answer is kept as the compact object, which the result and the history hold.
                    (response, string? why) = Structured.StructuredCaption.TakeAnswer(settings, answer, response);
                    if (why is null)
                    {
                        break;
                    }

                    if (attempt >= settings.MaxRetries)
                    {
                        throw new CaptionException("SchemaMismatch", CaptionErrorCategory.InvalidResult, $"The answer for '{job.Path}' ({label.ToLowerInvariant()}) did not match the JSON schema after {attempt + 1} tries: {why}. It began: \"{Begin(response)}\". A model that ignores the schema needs a server that constrains its answer (response_format), or a simpler schema.");
                    }

                    // Asked again, as a truncated or failed answer would be: the same request, the wrong answer not kept.
                    log?.Invoke($"{label}: the answer did not match the JSON schema ({why}); asking again ({attempt + 1} of {settings.MaxRetries}).");
                }

                clock.Stop();
                messages.Add(ChatMessage.Assistant(response));
                var turn = new CaptionTurn
                {
                    Prompt = prompt,
                    Response = response,
                    FinishReason = answer.FinishReason,
                    PromptTokens = answer.PromptTokens,
                    CompletionTokens = answer.CompletionTokens,
                    Seconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
                };
                outcome.Turns.Add(turn);
                if (settings.KeepHistory)
                {
                    outcome.History.Add(ChatRequestWriter.WriteHistory(messages));
                }

                log?.Invoke($"{label}: {answer.CompletionTokens?.ToString() ?? "?"} tokens, finish '{answer.FinishReason}', {clock.Elapsed.TotalSeconds:0.00} s.");
                return turn;
            }
        }
    }
}
