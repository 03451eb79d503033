using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using VlmCaption.Transport;

namespace VlmCaption.Batch
{
    /// <summary>
    /// Reads an attempt's output and error files and hands each answer to its conversation, classified as the live
    /// path classifies a response (<see cref="RefusalVerdict"/>): a caption turn, a refusal that changes what is sent,
    /// one to try again with the next attempt, or the image's error. Lines answering requests the part did not send
    /// are passed over; a request with no answer waits for the next attempt.
    /// </summary>
    internal sealed class BatchAnswerReader
    {
        private readonly CaptionSettings settings;
        private readonly string shownUrl;

        public BatchAnswerReader(CaptionSettings settings, string shownUrl)
        {
            this.settings = settings;
            this.shownUrl = shownUrl;
        }

        /// <summary>Receives detail lines, for -Verbose.</summary>
        public Action<string>? Verbose { get; set; }

        /// <summary>Receives what the run should hear.</summary>
        public Action<string>? Warning { get; set; }

        /// <summary>Hands each answer of an attempt to its conversation; what is missing or may pass on a new try waits for the next attempt.</summary>
        public void Apply(IReadOnlyList<string> parts, List<BatchConversation> targets, EndpointQuirks quirks, EndpointQuirks sent)
        {
            var byId = targets.Where(t => !t.Done).ToDictionary(t => t.CustomId, StringComparer.Ordinal);
            var answered = new HashSet<string>(StringComparer.Ordinal);
            long maxLine = settings.MaxAnswerBytes + (1 << 20);
            foreach (string part in parts)
            {
                string finished = BatchFolder.ReadText(BatchParts.Finished(part), 1 << 20) ?? "";
                if (finished.StartsWith("failed", StringComparison.Ordinal))
                {
                    string reason = finished.Substring("failed".Length).Trim();
                    foreach (string id in BatchParts.IdsOf(part).Where(byId.ContainsKey))
                    {
                        byId[id].LastTransient = new CaptionException("BatchFailed", CaptionErrorCategory.InvalidResult, $"The batch holding the request for '{byId[id].Image.Path}' failed: {(reason.Length > 0 ? reason : "no reason given")}.");
                    }

                    continue;
                }

                var sentHere = new HashSet<string>(BatchParts.IdsOf(part), StringComparer.Ordinal);
                int foreign = 0;
                foreach (string file in new[] { BatchParts.OutputPath(part), BatchParts.ErrorsPath(part) }.Where(File.Exists))
                {
                    foreach (BatchOutcome outcome in BatchOutput.Read(file, maxLine, problem => Warning?.Invoke($"In the batch output, {problem}.")))
                    {
                        // Only answers to requests this part sent: an output file of another run or dataset matches none.
                        if (!sentHere.Contains(outcome.CustomId))
                        {
                            foreign++;
                        }
                        else if (byId.TryGetValue(outcome.CustomId, out BatchConversation? conversation) && answered.Add(outcome.CustomId))
                        {
                            Take(conversation, outcome, quirks, sent);
                        }
                    }
                }

                if (foreign > 0)
                {
                    Warning?.Invoke($"The output of '{Path.GetFileName(part)}' has {foreign} line(s) answering requests it did not send (another run's or dataset's output?); they were passed over, and what it sent is sent again.");
                }
            }

            foreach (KeyValuePair<string, BatchConversation> missing in byId.Where(p => !answered.Contains(p.Key) && p.Value.LastTransient is null))
            {
                missing.Value.LastTransient = new CaptionException("BatchAnswerMissing", CaptionErrorCategory.ProtocolError, $"The batch output has no answer for '{missing.Value.Image.Path}' ({missing.Key}).");
            }
        }

        /// <summary>One answer, read as the live path reads a response; a refusal naming a field to change changes it for what follows.</summary>
        private void Take(BatchConversation conversation, BatchOutcome outcome, EndpointQuirks quirks, EndpointQuirks sent)
        {
            string path = conversation.Image.Path;
            Action<string> log = text => Verbose?.Invoke($"{Path.GetFileName(path)}: {text}");
            if (outcome.Status is >= 200 and < 300 && outcome.Body is byte[] body)
            {
                try
                {
                    conversation.Answer(ChatAnswer.Parse(body), sent.MaxTokens, log);
                }
                catch (CaptionException e)
                {
                    conversation.Error = e;
                }
                catch (ServerErrorAnswer e)
                {
                    conversation.Error = ServerFailure.FromAnswer(outcome.Status, "", ServerError.Describe(e.Message, settings.ApiKey).TrimEnd('.') + outcome.RequestIdNote, shownUrl);
                }
                catch (FormatException e)
                {
                    conversation.Error = new CaptionException("RequestFailed", CaptionErrorCategory.ProtocolError, $"The batch answer for '{path}' is not a chat completion: {e.Message}", e);
                }

                return;
            }

            if (outcome.Status > 0)
            {
                string said = outcome.Body is byte[] error ? ServerError.Describe(ServerError.ReadMessage(error), settings.ApiKey) : outcome.ErrorMessage;
                RefusalVerdict verdict = RefusalVerdict.Read(outcome.Status, "", said, sent, shownUrl, shownText: said.TrimEnd('.') + outcome.RequestIdNote);
                if (verdict.Change is RequestAdjustment.Change change && quirks.Apply(change))
                {
                    Warning?.Invoke(RefusalVerdict.Changed(shownUrl, said.TrimEnd('.') + outcome.RequestIdNote, change));
                }

                // A change or a transient status is tried again with the next attempt; anything else fails the image.
                if (verdict.Transient)
                {
                    conversation.LastTransient = verdict.Failure;
                }
                else
                {
                    conversation.Error = verdict.Failure;
                }

                return;
            }

            if (outcome.ErrorCode == BatchOutcome.TooLarge)
            {
                conversation.Error = new CaptionException("AnswerTooLarge", CaptionErrorCategory.LimitsExceeded, $"The batch answer for '{path}' is too large: {outcome.ErrorMessage} (max_answer_bytes); it was not read.");
            }
            else if (outcome.ErrorCode is "batch_expired" or "batch_cancelled")
            {
                conversation.LastTransient = new CaptionException(outcome.ErrorCode == "batch_expired" ? "BatchExpired" : "BatchCancelled", CaptionErrorCategory.OperationTimeout, $"The batch holding the request for '{path}' {(outcome.ErrorCode == "batch_expired" ? "expired" : "was cancelled")} before it ran: {outcome.ErrorMessage}");
            }
            else
            {
                conversation.Error = new CaptionException("BatchRequestFailed", CaptionErrorCategory.ProtocolError, $"The batch could not run the request for '{path}': {(outcome.ErrorCode.Length > 0 ? outcome.ErrorCode + ": " : "")}{outcome.ErrorMessage.TrimEnd('.')}{outcome.RequestIdNote}.");
            }
        }
    }
}
