namespace VlmCaption
{
    /// <summary>One prompt of the conversation and the model's cleaned answer to it.</summary>
    public sealed class CaptionTurn
    {
        /// <summary>The prompt text as sent (without hints).</summary>
        public string Prompt { get; set; } = "";

        /// <summary>The answer after cleaning (think blocks and box tokens removed, trimmed).</summary>
        public string Response { get; set; } = "";

        /// <summary>The server's finish_reason, e.g. "stop" or "length"; empty when not reported.</summary>
        public string FinishReason { get; set; } = "";

        /// <summary>Prompt tokens the server reported for this request, or null.</summary>
        public int? PromptTokens { get; set; }

        /// <summary>Completion tokens the server reported for this request, or null.</summary>
        public int? CompletionTokens { get; set; }

        /// <summary>Wall time of the request in seconds, retries included.</summary>
        public double Seconds { get; set; }

        /// <inheritdoc />
        public override string ToString() => Response;
    }
}
