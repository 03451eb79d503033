namespace VlmCaption.PowerShell
{
    /// <summary>
    /// The settings of the chat request itself, for every cmdlet that sends one as a run would
    /// (Get-VlmCaption, Invoke-VlmCaptionRun, Test-VlmEndpoint): each overrides its caption.yaml key through
    /// <see cref="ConfigOverlay"/>, and only when typed.
    /// </summary>
    public abstract class RequestCommandBase : EndpointCommandBase
    {
        /// <summary>Overrides system_prompt: the system message.</summary>
        [Parameter]
        public string? SystemPrompt { get; set; }

        /// <summary>Overrides max_tokens: the answer limit, sent with every request.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxTokens { get; set; }

        /// <summary>Overrides use_max_completion_tokens: send the limit as max_completion_tokens (OpenAI's reasoning models).</summary>
        [Parameter]
        public SwitchParameter UseMaxCompletionTokens { get; set; }

        /// <summary>Overrides temperature: sent only when given.</summary>
        [Parameter]
        [ValidateRange(0.0, 2.0)]
        public double Temperature { get; set; }

        /// <summary>Overrides reasoning_effort: none turns thinking off where the server supports it.</summary>
        [Parameter]
        [ValidateSet("none", "minimal", "low", "medium", "high")]
        public string? ReasoningEffort { get; set; }

        /// <summary>Overrides extra_body: fields merged into every request body, e.g. @{ chat_template_kwargs = @{ enable_thinking = $false } }.</summary>
        [Parameter]
        [ValidateNotNull]
        public Hashtable? AdditionalBody { get; set; }

        /// <summary>Overrides stream with false: answers are read whole, for servers that mishandle streaming.</summary>
        [Parameter]
        public SwitchParameter NoStream { get; set; }
    }
}
