namespace VlmCaption.TestServer;

/// <summary>
/// The servers people run, each as its own source code, docs and issue trackers describe it. The reference
/// server takes one with --persona NAME (or "persona" in its options).
/// </summary>
public static class Personas
{
    /// <summary>Our own server: OpenAI's shapes, nothing refused.</summary>
    public static readonly Persona Reference = new() { Name = "reference", ServesBatches = true };

    private static readonly HashSet<string> OpenAIFields = ["model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stream", "stream_options", "stop", "seed", "n", "response_format", "reasoning_effort", "presence_penalty", "frequency_penalty", "tools", "tool_choice", "user"];

    public static readonly IReadOnlyDictionary<string, Persona> All = new Dictionary<string, Persona>(StringComparer.OrdinalIgnoreCase)
    {
        ["reference"] = Reference,

        // LM Studio (closed source): docs 1_developer/3_openai-compat/chat-completions.md lists max_tokens only;
        // reasoning in reasoning_content with content "" when the budget is spent (lmstudio-bug-tracker#1602, #1698);
        // HTTP 200 with {"error": {...}} when the vision add-on is missing (lmstudio-ai/lms#362).
        // Any route it does not serve (/v1/files, /v1/batches among them) is answered HTTP 200 with
        // {"error":"Unexpected endpoint or method. (POST /chat/completions)"} (lmstudio-bug-tracker#618, #1323).
        ["lmstudio"] = new()
        {
            Name = "lmstudio",
            OwnedBy = "organization_owner",
            UnknownRoutesAnswer200 = true,
        },
        ["lmstudio-text"] = new()
        {
            Name = "lmstudio-text",
            OwnedBy = "organization_owner",
            UnknownRoutesAnswer200 = true,
            NoVisionStatus = 200,
            NoVisionMessage = "Model does not support images. Please use a model that does. (Vision add-on is not loaded.)",
        },

        // Ollama (ollama/ollama fb30760): openai/openai.go has max_tokens but no max_completion_tokens, decodes only
        // data:image/{jpeg,jpg,png,webp}, puts thinking in "reasoning"; an empty list is "data": null
        // (middleware/openai_test.go); server/routes.go: 404 model "x" not found, try pulling it first.
        ["ollama"] = new()
        {
            Name = "ollama",
            OwnedBy = "library",
            ListNullWhenEmpty = true,
            Names = ModelNames.OllamaLatest,
            ReadsMaxCompletionTokens = false,
            ReasoningField = "reasoning",
            ModelNotFound = "model \"{0}\" not found, try pulling it first",
            ImageTypes = new HashSet<string> { "image/jpeg", "image/jpg", "image/png", "image/webp" },
        },

        // llama.cpp llama-server, single-model mode (tools/server/server-context.cpp): one entry, owned_by
        // "llamacpp", any model name answered; n_predict from max_tokens or max_completion_tokens
        // (server-task.cpp); reasoning_content (common/chat.cpp). Without --mmproj:
        // std::runtime_error "image input is not supported - hint: ... mmproj" -> HTTP 500 (server-common.cpp).
        ["llamacpp"] = new()
        {
            Name = "llamacpp",
            OwnedBy = "llamacpp",
            Names = ModelNames.AnyName,
            ClosesAfterStream = true,
        },
        ["llamacpp-text"] = new()
        {
            Name = "llamacpp-text",
            OwnedBy = "llamacpp",
            Names = ModelNames.AnyName,
            ClosesAfterStream = true,
            NoVisionStatus = 500,
            NoVisionMessage = "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj",
        },

        // llama-server before ggml-org/llama.cpp#9527 (and ik_llama.cpp until 2025-09, ikawrakow/ik_llama.cpp#778):
        // response_format json_schema is refused with HTTP 500 {"code": 500, "message": "response_format type must be
        // one of \"text\" or \"json_object\", but got: json_schema", "type": "server_error"}.
        ["llamacpp-old"] = new()
        {
            Name = "llamacpp-old",
            OwnedBy = "llamacpp",
            Names = ModelNames.AnyName,
            ResponseFormat = StructuredOutput.OnlyJsonObject,
        },

        // vLLM (vllm/entrypoints/openai): ids as served ("Qwen/Qwen2.5-VL-7B-Instruct"), _check_model is an exact
        // match: 404 "The model `X` does not exist."; reasoning in "reasoning"; the context check's 400 text
        // (see ChatHandler); ErrorResponse {object: "error", ...} in the older protocol.
        ["vllm"] = new()
        {
            Name = "vllm",
            OwnedBy = "vllm",
            ReasoningField = "reasoning",
            Errors = ErrorShape.ObjectError,
            ModelNotFound = "The model `{0}` does not exist.",
        },

        // OpenAI, gpt-4o class: the reference shapes. Reasoning models (gpt-5, o-series): max_tokens refused
        // ("Use 'max_completion_tokens' instead", microsoft/vscode-copilot-release#8065), temperature other than 1
        // refused (chatboxai/chatbox#2564); reasoning never returned, only counted in usage. Both serve the Batch API
        // (platform.openai.com/docs/guides/batch).
        ["openai"] = new()
        {
            Name = "openai",
            OwnedBy = "system",
            ServesBatches = true,
            ReasoningField = null,
            ModelNotFound = "The model `{0}` does not exist or you do not have access to it.",
        },
        ["openai-reasoning"] = new()
        {
            Name = "openai-reasoning",
            OwnedBy = "system",
            ServesBatches = true,
            RefusesMaxTokens = true,
            TemperatureOnlyDefault = true,
            ReasoningField = null,
            ReasoningTokensOnly = true,
            ModelNotFound = "The model `{0}` does not exist or you do not have access to it.",
        },

        // Gemini's OpenAI layer (ai.google.dev/gemini-api/docs/openai): lists "models/gemini-..." (EKKOLearnAI/
        // hermes-studio#1510), takes either name (openai/codex#1139), refuses unknown fields ("Unknown name ...
        // Cannot find field."), errors as a list (bytedance/deer-flow#1515).
        ["gemini"] = new()
        {
            Name = "gemini",
            OwnedBy = "google",
            Names = ModelNames.GeminiPrefix,
            KnownFields = OpenAIFields,
            Errors = ErrorShape.GeminiList,
            ReasoningField = null,
        },

        // Anthropic's OpenAI SDK compatibility (docs.anthropic.com/en/api/openai-sdk): /v1/models refuses the Bearer
        // key with 401 "Invalid bearer token" (dnakov/anon-kode#14) while chat takes it; aliases such as
        // claude-sonnet-4-5 work; images over 5 MB of base64 refused (anthropics/claude-code#19631).
        ["anthropic"] = new()
        {
            Name = "anthropic",
            OwnedBy = "anthropic",
            ListRefusesBearer = true,
            Names = ModelNames.Aliases,
            ResponseFormat = StructuredOutput.Ignored,
            ReasoningField = null,
            MaxImageBase64 = 5 * 1024 * 1024,
        },

        // Mistral: 422 extra_forbidden for max_completion_tokens and other OpenAI fields (editor-code-assistant/eca#231,
        // mistralai/platform-docs-public#7); Magistral answers [thinking part, text part] (simonw/llm-mistral#39);
        // finish_reason "model_length" at the context end.
        ["mistral"] = new()
        {
            Name = "mistral",
            OwnedBy = "mistralai",
            KnownFields = new HashSet<string> { "model", "messages", "max_tokens", "temperature", "top_p", "stream", "stop", "random_seed", "response_format", "tools", "tool_choice", "presence_penalty", "frequency_penalty", "n", "safe_prompt", "prompt_mode" },
            ReasoningField = "parts",
            Errors = ErrorShape.MistralDetail,
        },

        // OpenRouter (response schema in its docs): ids "vendor/model" in lower case, exact match; "reasoning";
        // finish_reason "error" with choices[].error.
        ["openrouter"] = new()
        {
            Name = "openrouter",
            OwnedBy = "openrouter",
            ReasoningField = "reasoning",
        },

        // KoboldCpp (LostRuins/koboldcpp koboldcpp.py 2da346a): reads max_tokens only, answers any model name,
        // 503 {"detail": {"msg": "Server is busy; please try again later.", "type": "service_unavailable"}}.
        ["koboldcpp"] = new()
        {
            Name = "koboldcpp",
            OwnedBy = "koboldcpp",
            Names = ModelNames.AnyName,
            ReadsMaxCompletionTokens = false,
            ReasoningField = null,
            Errors = ErrorShape.KoboldDetail,
        },

        // Jan: an API key is mandatory since 0.5.18 (janhq/jan#5277, #6444).
        ["jan"] = new()
        {
            Name = "jan",
            OwnedBy = "jan",
            RequiresKey = true,
        },

        // TabbyAPI (theroyallab/tabbyAPI e632af4): max_tokens with aliases max_completion_tokens and max_length
        // (common/sampling.py), reasoning_content; image parts silently dropped unless vision is enabled
        // (endpoints/OAI/utils/chat_completion.py).
        ["tabby"] = new()
        {
            Name = "tabby",
            OwnedBy = "tabbyAPI",
        },
        ["tabby-novision"] = new()
        {
            Name = "tabby-novision",
            OwnedBy = "tabbyAPI",
            DropsImages = true,
        },
    };

    public static Persona Get(string? name) =>
        name is null ? Reference : All.TryGetValue(name, out Persona? persona) ? persona : throw new ArgumentException($"Unknown persona '{name}'. Known: {string.Join(", ", All.Keys)}.");
}
