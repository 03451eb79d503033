using System.Text.Json;
using System.Text.Json.Serialization;

namespace VlmCaption.TestServer;

/// <summary>How the reference server behaves; read from the command line, a JSON file, or PUT /debug/config.</summary>
public sealed class ServerOptions
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Models listed by /v1/models and accepted by /v1/chat/completions.</summary>
    public List<string> Models { get; set; } = ["test"];

    /// <summary>Fixed delay before every answer.</summary>
    public int LatencyMs { get; set; }

    /// <summary>Extra delay per answer token (between chunks when streaming).</summary>
    public double TokenLatencyMs { get; set; }

    /// <summary>When set, requests without "Authorization: Bearer KEY" get 401.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Answer without decoding images (for benchmarks, so the server's CPU does not compete with the client's).</summary>
    public bool NoImageDecode { get; set; }

    /// <summary>Keep no request log (for long benchmarks).</summary>
    public bool NoLog { get; set; }

    /// <summary>Echo the key received in 401 answers, to test that clients redact it.</summary>
    public bool EchoKey { get; set; }

    /// <summary>Batch API: how long a batch stays in each state (validating, in progress, finalizing).</summary>
    public int BatchStepMs { get; set; } = 100;

    /// <summary>Batch API fault: "fail" (fails validation), "expire" (the window passes halfway through), "limit" (one batch at a time; others fail with token_limit_exceeded).</summary>
    public string? BatchFault { get; set; }

    /// <summary>
    /// Batch API: output and error files expire this long after they are made (0: never), then answer 404 like a
    /// deleted file. OpenAI's Create batch takes output_expires_after (1 hour to 30 days after the file is made).
    /// </summary>
    public int BatchOutputExpiresMs { get; set; }

    /// <summary>Batch API: an output file's download carries this many bytes more after its lines, in one line of no request (a provider's file far larger than its answers).</summary>
    public long BatchOutputPadBytes { get; set; }

    /// <summary>Faults of the Batch API's own routes, each answered once per Times (OpenAI documents 429 and 5xx on every route).</summary>
    public List<BatchRouteFault> BatchRouteFaults { get; set; } = [];

    /// <summary>As a forward proxy: the "user:password" a request for another host must bring in Proxy-Authorization (Basic).</summary>
    public string? ProxyAuthorization { get; set; }

    /// <summary>Requests served at once; the rest wait (0: no cap).</summary>
    public int MaxConcurrent { get; set; }

    /// <summary>Reject images whose data URI media type differs from their real format, as strict servers do.</summary>
    public bool StrictMediaType { get; set; }

    /// <summary>The real server to behave as (see Personas); null for the reference behaviour.</summary>
    public string? Persona { get; set; }

    /// <summary>For this long after start or reset, every route answers 503 "Loading model", as llama-server does while it loads.</summary>
    public int LoadingMs { get; set; }

    /// <summary>Answer plain JSON even when asked to stream, as some servers do.</summary>
    public bool IgnoresStream { get; set; }

    /// <summary>Refuse stream_options with 400, as older servers do ("Unrecognized request argument supplied: stream_options").</summary>
    public bool RejectsStreamOptions { get; set; }

    /// <summary>The model's context in tokens: a request whose prompt and answer limit exceed it gets vLLM's 400.</summary>
    public int? ContextTokens { get; set; }

    /// <summary>
    /// The most images one request may hold, as vLLM's --limit-mm-per-prompt sets it (1 by default there): more is a
    /// 400 with vLLM's own words, "At most N image(s) may be provided in one request." (vllm-project/vllm#13513,
    /// #9739; entrypoints/chat_utils.py). 0: no limit.
    /// </summary>
    public int MaxImagesPerRequest { get; set; }

    /// <summary>
    /// Answers open with the model asked for ("By gemma: ..."): two real models word a caption differently, and this
    /// stands in for that, so tests comparing models can tell their captions apart. Off, the answer ignores the model.
    /// </summary>
    public bool NamesModel { get; set; }

    /// <summary>Scripted faults, first match wins.</summary>
    public List<FaultRule> Faults { get; set; } = [];

    public static ServerOptions Load(string path) =>
        JsonSerializer.Deserialize<ServerOptions>(File.ReadAllText(path), Json) ?? new ServerOptions();
}

/// <summary>A scripted misbehaviour and the requests it applies to.</summary>
public sealed class FaultRule
{
    /// <summary>
    /// status, drop, malformed, length, hidden-reasoning (no content, finish length, no reasoning shown), empty, think, reasoning, paragraphs (an answer in paragraphs, a blank line between), refuse ("I'm sorry, but I can't help..."), refuse-custom ("Nope, ..."), blind (ignores the image), delay, or a finish:
    /// reasoning-only (content empty, reasoning kept apart), finish-error (OpenRouter's finish_reason "error" with
    /// choices[].error), abort (SGLang), content-filter; or a stream's: long (an answer of Words words), stall
    /// (silent for DelayMs halfway), stream-error (LM Studio's {"error"} event), no-done (the stream stops without
    /// a finish reason or [DONE]), huge (an answer of Bytes bytes, streamed or not).
    /// </summary>
    public string Kind { get; set; } = "status";

    /// <summary>HTTP status for kind "status".</summary>
    public int Status { get; set; } = 500;

    /// <summary>Retry-After seconds sent with kind "status".</summary>
    public int? RetryAfter { get; set; }

    /// <summary>Extra milliseconds for kind "delay"; how long kind "stall" goes silent mid-stream.</summary>
    public int DelayMs { get; set; }

    /// <summary>For kind "long": the answer is this many words.</summary>
    public int Words { get; set; }

    /// <summary>For kind "huge": the answer is this many bytes, sent in pieces so the server holds little of it.</summary>
    public long Bytes { get; set; }

    /// <summary>Only these request numbers (1-based, counted since start or reset).</summary>
    public List<int>? Requests { get; set; }

    /// <summary>Only requests whose image measures "WIDTHxHEIGHT".</summary>
    public string? ImageSize { get; set; }

    /// <summary>Only requests whose user text contains this.</summary>
    public string? TextContains { get; set; }

    /// <summary>Only requests for this model (one model refuses what another answers).</summary>
    public string? Model { get; set; }

    /// <summary>Only this turn (1-based count of user messages).</summary>
    public int? Turn { get; set; }

    /// <summary>Fire at most this many times (null: always).</summary>
    public int? Times { get; set; }

    [JsonIgnore]
    public int Fired;
}

/// <summary>A scripted answer of one Batch API route: list, upload, create, poll, download or delete.</summary>
public sealed class BatchRouteFault
{
    public string Route { get; set; } = "poll";

    public int Status { get; set; } = 500;

    public int? RetryAfter { get; set; }

    /// <summary>How many times it fires.</summary>
    public int Times { get; set; } = 1;

    [JsonIgnore]
    public int Fired;
}
