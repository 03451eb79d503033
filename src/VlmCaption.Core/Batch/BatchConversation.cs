using System;
using System.Collections.Generic;
using VlmCaption.Conversation;
using VlmCaption.Images;
using VlmCaption.Transport;

namespace VlmCaption.Batch
{
    /// <summary>
    /// One conversation of a batch run, advanced one request per round: the prompts in order, then each retry
    /// rule whose phrases the caption holds, exactly as <see cref="ImageConversation"/> runs them live.
    /// </summary>
    internal sealed class BatchConversation
    {
        private readonly CaptionSettings settings;
        private readonly BatchAnswers answers;
        private readonly List<StoredTurn> turns = new List<StoredTurn>();
        private int captionTurn = -1;
        private string nextText;
        private string nextPrompt;
        private int nextStep;

        public BatchConversation(CaptionSettings settings, BatchAnswers answers, BatchImage image, int captionIndex)
        {
            this.settings = settings;
            this.answers = answers;
            Image = image;
            CaptionIndex = captionIndex;
            nextPrompt = settings.Prompts[0];
            nextText = ImageConversation.FirstTurnText(image.Hints, settings.PromptSent(0));
        }

        /// <summary>True when the next request answers with the JSON schema (response_format goes with it).</summary>
        public bool AsksSchema => nextStep >= 0 && settings.AsksSchemaAt(nextStep);

        public BatchImage Image { get; }

        /// <summary>Which of the image's captions (from 1).</summary>
        public int CaptionIndex { get; }

        /// <summary>Turns answered so far.</summary>
        public int TurnCount => turns.Count;

        /// <summary>The turns, their answers read back from the answers file.</summary>
        public List<CaptionTurn> Turns() => turns.ConvertAll(Materialise);

        /// <summary>The turn whose answer is the caption.</summary>
        public CaptionTurn? CaptionTurn => captionTurn < 0 ? null : Materialise(turns[captionTurn]);

        /// <summary>Why it failed; set once, and then it is done.</summary>
        public CaptionException? Error { get; set; }

        /// <summary>The last failure worth another try (a server error, an expired batch); it becomes <see cref="Error"/> once the tries are spent.</summary>
        public CaptionException? LastTransient { get; set; }

        public bool Done => Error is not null || nextStep < 0;

        /// <summary>The run's id (the state folder's run-id), so no other run's answer matches a request of this one.</summary>
        public string RunId { get; set; } = "";

        /// <summary>Unique in a round and to the run: run, image, caption and turn.</summary>
        public string CustomId => $"img-{(RunId.Length > 0 ? RunId + "-" : "")}{Image.Key}-c{CaptionIndex}-t{turns.Count + 1}";

        /// <summary>The messages of the next request: the history so far and the next user turn.</summary>
        public List<ChatMessage> NextMessages(string? systemText, PreparedImage image)
        {
            List<ChatMessage> messages = History(systemText, image, turns.Count);
            messages.Add(turns.Count == 0 ? ChatMessage.User(nextText, image) : ChatMessage.User(nextText));
            return messages;
        }

        /// <summary>The messages up to and including the answer of turn <paramref name="count"/>.</summary>
        public List<ChatMessage> History(string? systemText, PreparedImage? image, int count)
        {
            var messages = new List<ChatMessage>();
            if (systemText is not null)
            {
                messages.Add(ChatMessage.System(systemText));
            }

            for (int i = 0; i < count; i++)
            {
                // Retry rules' turns come after the prompts', so a turn's place says whether it stated the schema.
                string sent = settings.AsksSchemaAt(i) ? settings.PromptSent(i) : turns[i].Prompt;
                messages.Add(i == 0 ? ChatMessage.User(ImageConversation.FirstTurnText(Image.Hints, sent), image) : ChatMessage.User(sent));
                messages.Add(ChatMessage.Assistant(answers.Read(turns[i].Answer)));
            }

            return messages;
        }

        /// <summary>Takes the answer to the request of <see cref="CustomId"/>; throws <see cref="CaptionException"/> when it cannot stand as a turn.</summary>
        public void Answer(ChatAnswer answer, int maxTokens, Action<string>? log)
        {
            string response = AnswerCleaner.Clean(answer.Content);
            string label = nextStep < settings.Prompts.Count
                ? $"turn {nextStep + 1} of {settings.Prompts.Count}"
                : $"retry rule '{settings.RetryRules[nextStep - settings.Prompts.Count].RuleName}'";
            AnswerCheck.Check(answer, response, $"'{Image.Path}', {label}", maxTokens, log);
            if (AsksSchema)
            {
                (response, string? why) = Structured.StructuredCaption.TakeAnswer(settings, answer, response);
                if (why is not null)
                {
                    // Asked again with the next attempt, as an answer that did not come would be; once the tries are
                    // spent this is the image's error.
                    LastTransient = new CaptionException("SchemaMismatch", CaptionErrorCategory.InvalidResult, $"The answer for '{Image.Path}' ({label}) did not match the JSON schema: {why}.");
                    log?.Invoke($"{label}: the answer did not match the JSON schema ({why}); it is asked again.");
                    return;
                }
            }

            turns.Add(new StoredTurn(nextPrompt, answers.Add(response), string.Intern(answer.FinishReason), answer.PromptTokens, answer.CompletionTokens));
            LastTransient = null;
            if (nextStep < settings.Prompts.Count)
            {
                captionTurn = turns.Count - 1;
            }
            else if (response.Length > 0 && ImageConversation.BannedPhrasesIn(response, settings.RetryRules[nextStep - settings.Prompts.Count]).Count == 0)
            {
                captionTurn = turns.Count - 1;
            }
            else
            {
                log?.Invoke($"The answer to retry rule '{settings.RetryRules[nextStep - settings.Prompts.Count].RuleName}' still has a banned phrase; the earlier caption is kept.");
            }

            Advance();
        }

        /// <summary>The next prompt, else the next retry rule whose phrases the caption holds, else done.</summary>
        private void Advance()
        {
            int step = nextStep + 1;
            int prompts = settings.Prompts.Count;
            if (step < prompts)
            {
                nextStep = step;
                nextPrompt = settings.Prompts[step];
                nextText = settings.PromptSent(step);
                return;
            }

            string caption = answers.Read(turns[captionTurn].Answer);
            for (int rule = step - prompts; rule < settings.RetryRules.Count; rule++)
            {
                List<string> found = ImageConversation.BannedPhrasesIn(caption, settings.RetryRules[rule]);
                if (found.Count > 0)
                {
                    nextStep = prompts + rule;
                    nextPrompt = nextText = settings.RetryRules[rule].RejectionNote.Replace("[phrases]", string.Join(", ", found));
                    return;
                }
            }

            nextStep = -1;
        }

        private CaptionTurn Materialise(StoredTurn turn) => new CaptionTurn
        {
            Prompt = turn.Prompt,
            Response = answers.Read(turn.Answer),
            FinishReason = turn.FinishReason,
            PromptTokens = turn.PromptTokens,
            CompletionTokens = turn.CompletionTokens,
        };

        /// <summary>A turn as held in memory: the prompt (shared with the settings), where its answer is, and small facts.</summary>
        private sealed class StoredTurn
        {
            public StoredTurn(string prompt, (long, int) answer, string finishReason, int? promptTokens, int? completionTokens)
            {
                Prompt = prompt;
                Answer = answer;
                FinishReason = finishReason;
                PromptTokens = promptTokens;
                CompletionTokens = completionTokens;
            }

            public string Prompt { get; }

            public (long Offset, int Length) Answer { get; }

            public string FinishReason { get; }

            public int? PromptTokens { get; }

            public int? CompletionTokens { get; }
        }
    }
}
