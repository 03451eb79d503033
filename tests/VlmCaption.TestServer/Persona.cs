using System.Text.Json.Nodes;

namespace VlmCaption.TestServer;

/// <summary>
/// How one real server bends the protocol: its model list, the names and fields it takes, the shapes of its
/// answers and errors. Each persona in <see cref="Personas"/> cites where its behaviour is documented; the
/// reference server imitates nothing beyond that.
/// </summary>
public sealed class Persona
{
    public required string Name { get; init; }

    /// <summary>Serves OpenAI's /v1/files and /v1/batches (OpenAI; SGLang and LiteLLM as the reference server does).</summary>
    public bool ServesBatches { get; init; }

    /// <summary>Answers a route it does not have with HTTP 200 and {"error": "Unexpected endpoint or method. (...)"} (LM Studio).</summary>
    public bool UnknownRoutesAnswer200 { get; init; }

    /// <summary>owned_by in /v1/models.</summary>
    public string OwnedBy { get; init; } = "vlmcaption-test";

    /// <summary>/v1/models refuses a Bearer key with 401 (it wants x-api-key), while chat takes it.</summary>
    public bool ListRefusesBearer { get; init; }

    /// <summary>An empty list is "data": null rather than [].</summary>
    public bool ListNullWhenEmpty { get; init; }

    /// <summary>How chat resolves the model name it is sent.</summary>
    public ModelNames Names { get; init; } = ModelNames.Exact;

    /// <summary>Every request needs an API key.</summary>
    public bool RequiresKey { get; init; }

    /// <summary>400 for max_tokens, with the text OpenAI's reasoning models send.</summary>
    public bool RefusesMaxTokens { get; init; }

    /// <summary>Reads max_completion_tokens as the limit; false: only max_tokens (the other is silently dropped).</summary>
    public bool ReadsMaxCompletionTokens { get; init; } = true;

    /// <summary>400 for any temperature but 1.</summary>
    public bool TemperatureOnlyDefault { get; init; }

    /// <summary>Request fields it knows; any other is refused. Null: everything is taken.</summary>
    public IReadOnlySet<string>? KnownFields { get; init; }

    /// <summary>Where reasoning goes in the message: reasoning_content, reasoning, "parts" (Magistral's content parts) or null (not returned).</summary>
    public string? ReasoningField { get; init; } = "reasoning_content";

    /// <summary>The finish_reason of an answer cut off by the limit.</summary>
    public string TruncatedFinish { get; init; } = "length";

    /// <summary>How its errors look.</summary>
    public ErrorShape Errors { get; init; } = ErrorShape.OpenAI;

    /// <summary>The text of its "model not found" error; {0} is the name.</summary>
    public string ModelNotFound { get; init; } = "The model '{0}' does not exist or is not loaded.";

    /// <summary>What it does with an image when the model has no vision: 0 ignores it, else the status of its error.</summary>
    public int NoVisionStatus { get; init; }

    /// <summary>The text of that error.</summary>
    public string NoVisionMessage { get; init; } = "";

    /// <summary>
    /// Closes the TCP connection right after a streamed answer, though its headers said Keep-Alive: llama-server
    /// streams through cpp-httplib's chunked content provider (tools/server/server-http.cpp,
    /// process_handler_response) and was seen sending FIN within 0.1 ms of the last chunk, so a client that reuses
    /// the connection for its next request gets no answer on it (issue 26's capture).
    /// </summary>
    public bool ClosesAfterStream { get; init; }

    /// <summary>What it does with response_format json_schema.</summary>
    public StructuredOutput ResponseFormat { get; init; } = StructuredOutput.JsonSchema;

    /// <summary>Image parts are silently dropped, so the model answers without seeing the image.</summary>
    public bool DropsImages { get; init; }

    /// <summary>Data URI media types it decodes; null: any.</summary>
    public IReadOnlySet<string>? ImageTypes { get; init; }

    /// <summary>Largest base64 image it takes, in characters; null: no limit.</summary>
    public long? MaxImageBase64 { get; init; }

    /// <summary>Reports reasoning only as usage.completion_tokens_details.reasoning_tokens (OpenAI).</summary>
    public bool ReasoningTokensOnly { get; init; }

    /// <summary>Writes an error body in this persona's shape.</summary>
    public Task ErrorAsync(HttpContext context, int status, string message, string type, string? param = null)
    {
        context.Response.StatusCode = status;
        JsonNode body = Errors switch
        {
            // vllm/entrypoints/openai/protocol.py (older): ErrorResponse {object, message, type, param, code}; SGLang the same.
            ErrorShape.ObjectError => new JsonObject { ["object"] = "error", ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = status },
            // Gemini's OpenAI layer: [{"error": {code, message, status}}] (FuzzAnything/PromptFuzz#42, bytedance/deer-flow#1515).
            ErrorShape.GeminiList => new JsonArray(new JsonObject { ["error"] = new JsonObject { ["code"] = status, ["message"] = message, ["status"] = "INVALID_ARGUMENT" } }),
            // Mistral: {"object":"error","message":{"detail":[{type, loc, msg}]}} for validation (editor-code-assistant/eca#231).
            ErrorShape.MistralDetail when param is not null => new JsonObject
            {
                ["object"] = "error",
                ["message"] = new JsonObject { ["detail"] = new JsonArray(new JsonObject { ["type"] = type, ["loc"] = new JsonArray("body", param), ["msg"] = message }) },
                ["type"] = "invalid_request_message_error",
            },
            // KoboldCpp: {"detail": {"msg", "type"}} (koboldcpp.py).
            ErrorShape.KoboldDetail => new JsonObject { ["detail"] = new JsonObject { ["msg"] = message, ["type"] = type } },
            // OpenAI, Ollama (openai/openai.go NewError), llama.cpp (format_error_response), LM Studio, OpenRouter, Jan.
            _ => new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = param, ["code"] = type } },
        };
        return context.Response.WriteAsync(body.ToJsonString());
    }

    /// <summary>The model list's body for these ids.</summary>
    public JsonObject ModelList(IReadOnlyList<string> ids)
    {
        JsonNode? data = ids.Count == 0 && ListNullWhenEmpty
            ? null
            : new JsonArray(ids.Select(id => (JsonNode)new JsonObject { ["id"] = id, ["object"] = "model", ["created"] = 1700000000, ["owned_by"] = OwnedBy }).ToArray());
        return new JsonObject { ["object"] = "list", ["data"] = data };
    }

    /// <summary>The listed id chat takes for a name, or null when it answers "not found".</summary>
    public string? Resolve(string name, IReadOnlyList<string> ids) => Names switch
    {
        ModelNames.AnyName => name,
        ModelNames.OllamaLatest => ids.Contains(name) ? name : ids.Contains(name + ":latest") ? name + ":latest" : null,
        ModelNames.GeminiPrefix => ids.Contains(name) ? name : ids.Contains("models/" + name) ? "models/" + name : null,
        ModelNames.Aliases => ids.Contains(name) || name.StartsWith("claude-", StringComparison.Ordinal) ? name : null,
        _ => ids.Contains(name) ? name : null,
    };
}

/// <summary>How a server resolves a model name in chat.</summary>
public enum ModelNames
{
    /// <summary>Exactly as listed (vLLM's _check_model, OpenAI, OpenRouter).</summary>
    Exact,

    /// <summary>As listed, or "name" for "name:latest" (Ollama).</summary>
    OllamaLatest,

    /// <summary>Any name: one model is served whatever the request says (llama-server single-model mode, KoboldCpp).</summary>
    AnyName,

    /// <summary>As listed with or without the "models/" prefix (Gemini).</summary>
    GeminiPrefix,

    /// <summary>As listed, or an alias that is not listed (Anthropic's claude-sonnet-4-5).</summary>
    Aliases,
}

/// <summary>The shapes servers give their error bodies.</summary>
public enum ErrorShape
{
    OpenAI,
    ObjectError,
    GeminiList,
    MistralDetail,
    KoboldDetail,
}

/// <summary>How a server treats response_format {"type": "json_schema", "json_schema": {"schema": ...}}.</summary>
public enum StructuredOutput
{
    /// <summary>Constrains the answer to the schema (OpenAI, vLLM, LM Studio, llama-server since ggml-org/llama.cpp#9527, Ollama, Gemini, Mistral).</summary>
    JsonSchema,

    /// <summary>Takes the field and ignores it: the model answers as the prompt says (Anthropic's OpenAI SDK compatibility: "response_format: Ignored").</summary>
    Ignored,

    /// <summary>Knows only "text" and "json_object": HTTP 500 "response_format type must be one of ..." (llama-server before #9527; ikawrakow/ik_llama.cpp#778).</summary>
    OnlyJsonObject,
}
