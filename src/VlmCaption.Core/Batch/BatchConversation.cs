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
        private string nextText;
        private string nextPrompt;
        private int nextStep;

        public BatchConversation(CaptionSettings settings, BatchImage image, int captionIndex)
        {
            this.settings = settings;
            Image = image;
            CaptionIndex = captionIndex;
            nextPrompt = settings.Prompts[0];
            nextText = ImageConversation.FirstTurnText(image.Hints, nextPrompt);
        }

        public BatchImage Image { get; }

        /// <summary>Which of the image's captions (from 1).</summary>
        public int CaptionIndex { get; }

        public List<CaptionTurn> Turns { get; } = new List<CaptionTurn>();

        /// <summary>The turn whose answer is the caption.</summary>
        public CaptionTurn? CaptionTurn { get; private set; }

        /// <summary>Why it failed; set once, and then it is done.</summary>
        public CaptionException? Error { get; set; }

        /// <summary>The last failure worth another try (a server error, an expired batch); it becomes <see cref="Error"/> once the tries are spent.</summary>
        public CaptionException? LastTransient { get; set; }

        public bool Done => Error is not null || nextStep < 0;

        /// <summary>Unique in a round: image, caption and turn.</summary>
        public string CustomId => $"img-{Image.Key}-c{CaptionIndex}-t{Turns.Count + 1}";

        /// <summary>The messages of the next request: the history so far and the next user turn.</summary>
        public List<ChatMessage> NextMessages(string? systemText, PreparedImage image)
        {
            List<ChatMessage> messages = History(systemText, image, Turns.Count);
            messages.Add(Turns.Count == 0 ? ChatMessage.User(nextText, image) : ChatMessage.User(nextText));
            return messages;
        }

        /// <summary>The messages up to and including the answer of turn <paramref name="turns"/>.</summary>
        public List<ChatMessage> History(string? systemText, PreparedImage? image, int turns)
        {
            var messages = new List<ChatMessage>();
            if (systemText is not null)
            {
                messages.Add(ChatMessage.System(systemText));
            }

            for (int i = 0; i < turns; i++)
            {
                messages.Add(i == 0 ? ChatMessage.User(ImageConversation.FirstTurnText(Image.Hints, Turns[0].Prompt), image) : ChatMessage.User(Turns[i].Prompt));
                messages.Add(ChatMessage.Assistant(Turns[i].Response));
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
            var turn = new CaptionTurn
            {
                Prompt = nextPrompt,
                Response = response,
                FinishReason = answer.FinishReason,
                PromptTokens = answer.PromptTokens,
                CompletionTokens = answer.CompletionTokens,
            };
            Turns.Add(turn);
            LastTransient = null;
            if (nextStep < settings.Prompts.Count)
            {
                CaptionTurn = turn;
            }
            else if (response.Length > 0 && ImageConversation.BannedPhrasesIn(response, settings.RetryRules[nextStep - settings.Prompts.Count]).Count == 0)
            {
                CaptionTurn = turn;
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
                nextPrompt = nextText = settings.Prompts[step];
                return;
            }

            for (int rule = step - prompts; rule < settings.RetryRules.Count; rule++)
            {
                List<string> found = ImageConversation.BannedPhrasesIn(CaptionTurn!.Response, settings.RetryRules[rule]);
                if (found.Count > 0)
                {
                    nextStep = prompts + rule;
                    nextPrompt = nextText = settings.RetryRules[rule].RejectionNote.Replace("[phrases]", string.Join(", ", found));
                    return;
                }
            }

            nextStep = -1;
        }
    }
}
