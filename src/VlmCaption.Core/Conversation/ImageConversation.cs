using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using VlmCaption.Images;
using VlmCaption.Transport;

namespace VlmCaption.Conversation
{
    /// <summary>Runs the chain of prompts for one image; the last cleaned answer is the caption.</summary>
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

        public static async Task<IReadOnlyList<CaptionTurn>> RunAsync(
            ChatEndpoint endpoint,
            CaptionSettings settings,
            string? globalMetadata,
            CaptionJob job,
            PreparedImage image,
            Action<string>? log,
            CancellationToken cancellationToken)
        {
            var messages = new List<ChatMessage>();
            if (SystemText(globalMetadata, settings.SystemPrompt) is string system)
            {
                messages.Add(ChatMessage.System(system));
            }

            var turns = new List<CaptionTurn>(settings.Prompts.Count);
            for (int i = 0; i < settings.Prompts.Count; i++)
            {
                string prompt = settings.Prompts[i];
                messages.Add(i == 0 ? ChatMessage.User(FirstTurnText(job.Hints, prompt), image) : ChatMessage.User(prompt));

                var clock = Stopwatch.StartNew();
                ChatAnswer answer = await endpoint.CompleteAsync(messages, log, cancellationToken).ConfigureAwait(false);
                clock.Stop();

                string response = AnswerCleaner.Clean(answer.Content);
                messages.Add(ChatMessage.Assistant(response));
                turns.Add(new CaptionTurn
                {
                    Prompt = prompt,
                    Response = response,
                    FinishReason = answer.FinishReason,
                    PromptTokens = answer.PromptTokens,
                    CompletionTokens = answer.CompletionTokens,
                    Duration = clock.Elapsed,
                });
                log?.Invoke($"Turn {i + 1} of {settings.Prompts.Count}: {answer.CompletionTokens?.ToString() ?? "?"} tokens, finish '{answer.FinishReason}', {clock.Elapsed.TotalSeconds:0.00} s.");
            }

            return turns;
        }
    }
}
