using System;
using System.Collections.Generic;

namespace VlmCaption
{
    /// <summary>Everything the engine needs to caption images, already validated by the caller.</summary>
    public sealed record CaptionSettings
    {
        /// <summary>Settings of the catalogue's defaults (<see cref="ConfigOptions"/>): the numbers and switches named as their keys take theirs from there.</summary>
        public CaptionSettings() => ConfigValues.ApplyDefaults(this);

        /// <summary>The default endpoint: LM Studio's local server.</summary>
        public const string DefaultBaseUrl = "http://localhost:1234/v1";

        /// <summary>The prompt used when the caller gives none.</summary>
        public const string DefaultPrompt = "Describe the image in detail.";

        /// <summary>OpenAI-compatible endpoints serving the same model, ending in /v1 for most servers.</summary>
        public IReadOnlyList<string> BaseUrls { get; init; } = new[] { DefaultBaseUrl };

        /// <summary>The first endpoint; setting it sets the only one.</summary>
        public string BaseUrl
        {
            get => BaseUrls[0];
            init => BaseUrls = new[] { value };
        }

        /// <summary>Model name sent with every request.</summary>
        public string Model { get; init; } = "";

        /// <summary>The name to send to an endpoint whose list names the model differently (the preflight's match); else <see cref="Model"/>.</summary>
        public IReadOnlyDictionary<string, string> ModelByEndpoint { get; init; } = new Dictionary<string, string>();

        /// <summary>Per endpoint, whether its model list named the model (false: no list could be read), so a 404 can say which.</summary>
        public IReadOnlyDictionary<string, bool> ModelListedByEndpoint { get; init; } = new Dictionary<string, bool>();

        /// <summary>Endpoints known (from their model list) to close the connection after every streamed answer; see <see cref="Transport.PreflightResult.ClosesAfterStream"/>.</summary>
        public IReadOnlyCollection<string> ClosesAfterStream { get; init; } = Array.Empty<string>();

        /// <summary>Bearer key; empty sends no Authorization header.</summary>
        public string ApiKey { get; init; } = "";

        /// <summary>The proxy every request goes through; null: the environment's (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).</summary>
        public Transport.ProxySettings? Proxy { get; init; }

        /// <summary>System message text; empty sends no system message unless global metadata is set.</summary>
        public string SystemPrompt { get; init; } = "";

        /// <summary>The chain of user prompts; the answer to the last one is the caption.</summary>
        public IReadOnlyList<string> Prompts { get; init; } = new[] { DefaultPrompt };

        /// <summary>Rules that send one more request when the caption holds a banned phrase.</summary>
        public IReadOnlyList<RetryRule> RetryRules { get; init; } = Array.Empty<RetryRule>();

        /// <summary>Keep each turn's message list (image data replaced by a placeholder) for chat-history files.</summary>
        public bool KeepHistory { get; init; }

        /// <summary>Answer limit sent with every request.</summary>
        public int MaxTokens { get; init; }

        /// <summary>
        /// Send the limit as max_completion_tokens (OpenAI's reasoning models require it) instead of
        /// max_tokens, the field LM Studio, Ollama, llama.cpp and vLLM read.
        /// </summary>
        public bool UseMaxCompletionTokens { get; init; }

        /// <summary>The most captions one image may be given (captions_per_image).</summary>
        public const int MaxCaptionsPerImage = 100;

        /// <summary>Independent conversations per image, each giving one caption.</summary>
        public int CaptionsPerImage { get; init; }

        /// <summary>Sampling temperature, sent only when set.</summary>
        public double? Temperature { get; init; }

        /// <summary>reasoning_effort sent with every request (none, low, medium, high); null sends none.</summary>
        public string? ReasoningEffort { get; init; }

        /// <summary>Fields merged into every request body (e.g. chat_template_kwargs); they replace ours of the same name.</summary>
        public IReadOnlyDictionary<string, object?> ExtraBody { get; init; } = new Dictionary<string, object?>();

        /// <summary>
        /// The longest silence allowed: a request fails (RequestTimedOut, retried) when no byte arrives for this long.
        /// Streaming, a model that is writing is never cut off by it; without streaming it bounds the whole answer.
        /// </summary>
        public TimeSpan Timeout { get; init; } = Seconds("timeout_sec");

        /// <summary>The longest one request may take in all, however steadily it streams.</summary>
        public TimeSpan MaxRequestTime { get; init; } = Seconds("max_request_sec");

        /// <summary>Send stream: true and read the answer as it is written (the default); false for servers that mishandle streaming.</summary>
        public bool Stream { get; init; }

        /// <summary>The most answer text read, in bytes; a longer answer fails with AnswerTooLarge and is not retried.</summary>
        public long MaxAnswerBytes { get; init; }

        /// <summary>refusal_check: a final answer that opens as a refusal is marked Refused, never a caption.</summary>
        public bool RefusalCheck { get; init; }

        /// <summary>refusal_phrases: openings taken for a refusal besides the built-in ones.</summary>
        public IReadOnlyList<string> RefusalPhrases { get; init; } = Array.Empty<string>();

        /// <summary>The JSON schema captions must match (json_schema); null for plain text captions.</summary>
        public Structured.CaptionSchema? Schema { get; init; }

        /// <summary>With a schema, every turn answers with it (json_schema_turns: all), not only the caption's.</summary>
        public bool SchemaEveryTurn { get; init; }

        /// <summary>With a schema, the template that makes the caption's text (json_render); empty: compact JSON.</summary>
        public string Render { get; init; } = "";

        /// <summary>True when prompt <paramref name="step"/> (from 0) answers with the schema: the last prompt's, or each with json_schema_turns: all.</summary>
        public bool AsksSchemaAt(int step) => Schema is not null && step < Prompts.Count && (SchemaEveryTurn || step == Prompts.Count - 1);

        /// <summary>Prompt <paramref name="step"/> as sent: on a schema turn the schema is stated after it, for servers that ignore response_format.</summary>
        public string PromptSent(int step) => AsksSchemaAt(step) ? Prompts[step] + "\n\n" + Schema!.Instruction : Prompts[step];

        /// <summary>Retries after the first attempt for connection failures, 408, 429 and 5xx.</summary>
        public int MaxRetries { get; init; }

        /// <summary>A key's default, in seconds, as a duration.</summary>
        private static TimeSpan Seconds(string key) => TimeSpan.FromSeconds(Convert.ToDouble(ConfigOptions.Find(key).Default, System.Globalization.CultureInfo.InvariantCulture));

        /// <summary>Throws when a value is out of range, naming the setting.</summary>
        public void Validate()
        {
            if (BaseUrls.Count == 0)
            {
                throw new ArgumentException("BaseUrl is empty: name at least one endpoint.");
            }

            foreach (string url in BaseUrls)
            {
                if (Transport.EndpointUrl.Problem(url) is string problem)
                {
                    throw new ArgumentException(problem);
                }
            }

            if (string.IsNullOrWhiteSpace(Model))
            {
                throw new ArgumentException("Model is empty: name the model the server should use.");
            }

            if (CaptionsPerImage < 1 || CaptionsPerImage > MaxCaptionsPerImage)
            {
                throw new ArgumentException($"CaptionsPerImage must be from 1 to {MaxCaptionsPerImage}, not {CaptionsPerImage}.");
            }

            if (Prompts.Count == 0)
            {
                throw new ArgumentException("Prompts is empty: give at least one prompt.");
            }

            for (int i = 0; i < Prompts.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(Prompts[i]))
                {
                    throw new ArgumentException($"Prompt {i + 1} is empty.");
                }
            }

            if (MaxTokens < 1)
            {
                throw new ArgumentException($"MaxTokens must be at least 1, not {MaxTokens}.");
            }

            if (MaxRetries < 0)
            {
                throw new ArgumentException($"MaxRetries must be 0 or more, not {MaxRetries}.");
            }

            if (Timeout <= TimeSpan.Zero || MaxRequestTime <= TimeSpan.Zero)
            {
                throw new ArgumentException("Timeout and MaxRequestTime must be positive.");
            }

            if (MaxAnswerBytes < 1024)
            {
                throw new ArgumentException($"MaxAnswerBytes must be at least 1024, not {MaxAnswerBytes}.");
            }
        }
    }
}
