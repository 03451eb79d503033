using System;
using System.Collections.Generic;
using System.Linq;
using VlmCaption.Images;

namespace VlmCaption.Conversation
{
    /// <summary>Turns a finished conversation into its CaptionResult, for live runs and batch rounds alike.</summary>
    internal static class CaptionResults
    {
        /// <summary>What to tell of a result built on a turn the answer limit cut off; null when none was.</summary>
        public static string? CutOffWarning(CaptionResult result) => result.CutOffTurns == 0 ? null
            : $"'{result.Path}': {result.CutOffTurns} turn(s) before the caption were cut off by the answer limit (finish_reason length), so the caption builds on half an answer; its result's CutOffTurns says so. Raise max_tokens, or the server's context size.";

        /// <summary>
        /// The result of caption <paramref name="index"/> of <paramref name="count"/>; throws <see cref="CaptionException"/>
        /// (EmptyCaption) when the final answer is empty, which is never a caption.
        /// </summary>
        public static CaptionResult From(string path, CaptionTurn final, IList<CaptionTurn> turns, string model, string baseUrl, PreparedImage image, double seconds, int index, int count, CaptionSettings? settings = null)
        {
            string? refusal = settings is { RefusalCheck: true } ? RefusalCheck.Match(final.Response, settings.RefusalPhrases) : null;
            if (final.Response.Length == 0)
            {
                throw new CaptionException("EmptyCaption", CaptionErrorCategory.InvalidResult, $"The model's final answer for '{path}'{(count > 1 ? $" (caption {index} of {count})" : "")} was empty (finish_reason '{final.FinishReason}'); nothing was saved.");
            }

            // A structured caption: the turn's answer is the checked object; the caption is its rendered text.
            System.Text.Json.Nodes.JsonObject? data = settings?.Schema is not null && refusal is null ? Structured.StructuredCaption.TryParse(final.Response) : null;
            return new CaptionResult
            {
                Path = path,
                Caption = data is null ? final.Response : Structured.CaptionTemplate.Render(settings!.Render, data),
                DataJson = data?.ToJsonString(),
                Status = refusal is not null ? CaptionStatus.Refused : AnswerCheck.Classify(final.FinishReason) == AnswerCheck.Outcome.Truncated ? CaptionStatus.Truncated : CaptionStatus.Succeeded,
                Model = model,
                BaseUrl = baseUrl,
                Turns = new CaptionTurnList(turns),
                PromptTokens = Sum(turns.Select(t => t.PromptTokens)),
                CompletionTokens = Sum(turns.Select(t => t.CompletionTokens)),
                Seconds = seconds,
                Width = image.OriginalWidth,
                Height = image.OriginalHeight,
                SentWidth = image.Width,
                SentHeight = image.Height,
                SentBytes = image.ByteCount,
                SentMediaType = image.MediaType,
                SentFrameSeconds = image.Frames.Select(frame => frame.Seconds).ToArray(),
                ClipSeconds = image.ClipSeconds,
                CaptionIndex = index,
                CaptionCount = count,
                CutOffTurns = turns.Count(t => !ReferenceEquals(t, final) && AnswerCheck.Classify(t.FinishReason) == AnswerCheck.Outcome.Truncated),
            };
        }

        /// <summary>The sum of the counts a server reported; null when it reported none.</summary>
        private static int? Sum(IEnumerable<int?> values)
        {
            int? total = null;
            foreach (int? value in values)
            {
                if (value is int v)
                {
                    total = (total ?? 0) + v;
                }
            }

            return total;
        }
    }
}
