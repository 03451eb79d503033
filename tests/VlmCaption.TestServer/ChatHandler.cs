using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VlmCaption.TestServer;

/// <summary>
/// POST /v1/chat/completions the way LM Studio, vLLM and Ollama answer it, but deterministic and honest:
/// the answer states what was measured from the image's pixels, the turn number and a digest of the user text.
/// </summary>
public sealed class ChatHandler(ServerState state)
{
    public async Task HandleAsync(HttpContext context)
    {
        var clock = Stopwatch.StartNew();
        int number = state.NextRequestNumber();
        var entry = new JsonObject
        {
            ["n"] = number,
            ["time"] = DateTimeOffset.UtcNow.ToString("O"),
            ["path"] = context.Request.Path.Value,
            ["authorization"] = context.Request.Headers.Authorization.Count > 0 ? "Bearer ***" : null,
            ["connection"] = context.Request.Headers.Connection.Count > 0 ? context.Request.Headers.Connection.ToString() : null,
            ["bytes"] = context.Request.ContentLength,
        };
        state.RequestBegan();
        try
        {
            await AnswerAsync(context, number, entry);
        }
        finally
        {
            entry["status"] = context.Response.StatusCode;
            entry["durationMs"] = Math.Round(clock.Elapsed.TotalMilliseconds, 1);
            state.RequestEnded(entry);
        }
    }

    private async Task AnswerAsync(HttpContext context, int number, JsonObject entry)
    {
        ServerOptions options = state.Options;
        Persona persona = state.Persona;
        if (state.IsLoading)
        {
            await LoadingAsync(context);
            return;
        }

        if (!state.IsAuthorized(context))
        {
            await UnauthorizedAsync(context, state);
            return;
        }

        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
        }
        catch (JsonException e)
        {
            await ErrorAsync(context, 400, $"Request body is not valid JSON: {e.Message}", "invalid_request");
            return;
        }

        if (body is null || body["messages"] is not JsonArray messages)
        {
            await ErrorAsync(context, 400, "'messages' is required.", "invalid_request");
            return;
        }

        string model = body["model"]?.GetValue<string>() ?? "";
        var request = new ParsedRequest(messages);
        if (!options.NoLog)
        {
            entry["body"] = Redacted(body);
        }

        entry["turn"] = request.Turn;
        if (await RefusesFieldAsync(context, persona, body))
        {
            return;
        }

        JsonObject? schema = null;
        if (body["response_format"] is JsonObject format && format["type"]?.GetValue<string>() == "json_schema")
        {
            if (persona.ResponseFormat == StructuredOutput.OnlyJsonObject)
            {
                await persona.ErrorAsync(context, 500, "response_format type must be one of \"text\" or \"json_object\", but got: json_schema", "server_error");
                return;
            }

            schema = persona.ResponseFormat == StructuredOutput.JsonSchema ? format["json_schema"]?["schema"] as JsonObject : null;
            entry["schemaHonoured"] = schema is not null;
        }

        if (options.RejectsStreamOptions && body.ContainsKey("stream_options"))
        {
            await persona.ErrorAsync(context, 400, "Unrecognized request argument supplied: stream_options", "invalid_request_error", "stream_options");
            return;
        }

        if (persona.Resolve(model, options.Models) is null)
        {
            await persona.ErrorAsync(context, 404, string.Format(persona.ModelNotFound, model), "model_not_found");
            return;
        }

        // Ollama and KoboldCpp read max_tokens only (openai/openai.go, koboldcpp.py); the others either field.
        int? limit = body["max_tokens"]?.GetValue<int>() ?? (persona.ReadsMaxCompletionTokens ? body["max_completion_tokens"]?.GetValue<int>() : null);

        if (options.MaxImagesPerRequest > 0 && request.ImageUrls.Count > options.MaxImagesPerRequest)
        {
            await ErrorAsync(context, 400, $"At most {options.MaxImagesPerRequest} image(s) may be provided in one request.", "BadRequestError");
            return;
        }

        ImageFacts? image = null;
        if (request.ImageUrl is string url && options.NoImageDecode)
        {
            // Benchmarks: count the bytes, skip the decoding.
            image = new ImageFacts("", "IMAGE", "", 0, 0, url.Length * 3 / 4, "unseen");
        }
        else if (request.ImageUrl is string url2)
        {
            try
            {
                image = ImageFacts.FromDataUri(url2);
            }
            catch (FormatException e)
            {
                await ErrorAsync(context, 400, e.Message, "invalid_image");
                return;
            }

            entry["image"] = JsonSerializer.SerializeToNode(image, ServerOptions.Json);
            if (options.StrictMediaType && image.DeclaredType != image.MimeType)
            {
                await ErrorAsync(context, 400, $"Image declared as {image.DeclaredType} is really {image.MimeType}.", "invalid_image");
                return;
            }

            if (await RefusesImageAsync(context, persona, image, url2))
            {
                return;
            }

            if (persona.DropsImages)
            {
                image = null;
            }
        }

        // vLLM's check of prompt plus answer limit against max_model_len, in its newer wording.
        if (options.ContextTokens is int window && request.PromptTokens + (limit ?? 0) > window)
        {
            await persona.ErrorAsync(context, 400, $"'max_tokens' or 'max_completion_tokens' is too large: {limit}. This model's maximum context length is {window} tokens and your request has {request.PromptTokens} input tokens ({limit} > {window} - {request.PromptTokens}). None", "BadRequestError");
            return;
        }

        FaultRule? fault = state.MatchFault(number, request, image, model);
        entry["fault"] = fault?.Kind;
        using IDisposable slot = await state.EnterAsync(context.RequestAborted, firstTurn: request.Turn == 1);
        entry["inFlight"] = state.InFlight;
        int delay = options.LatencyMs + (fault?.Kind == "delay" ? fault.DelayMs : 0);
        if (delay > 0)
        {
            await Task.Delay(delay, context.RequestAborted);
        }

        if (fault?.Kind == "status")
        {
            if (fault.RetryAfter is int seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString();
            }

            slot.Dispose();
            await ErrorAsync(context, fault.Status, $"Scripted fault: HTTP {fault.Status}.", "scripted_fault");
            return;
        }

        if (fault?.Kind == "sampler-init" && schema is not null)
        {
            // llama-server turns the schema into a grammar and builds the slot's samplers with it; when that throws
            // (a grammar the model's vocabulary cannot follow) the request fails with HTTP 400 and this text
            // (tools/server/server-context.cpp, launch_slot_with_task, ngxson/llama.cpp 3f545bec). Seen on the
            // real llama-server built from source with a tiny test model and any json_schema.
            slot.Dispose();
            await persona.ErrorAsync(context, 400, "Failed to initialize samplers: std::exception", "invalid_request_error");
            return;
        }

        if (request.VideoUrl is string videoUrl)
        {
            // vLLM reads video_url data URIs of video/* (examples/online_serving/openai_chat_completion_client_for_multimodal.py);
            // this server reads the mp4's own header for what a test needs: its length and its picture size.
            VideoFacts video;
            try
            {
                video = VideoFacts.FromDataUri(videoUrl);
            }
            catch (FormatException e)
            {
                await ErrorAsync(context, 400, e.Message, "invalid_video");
                return;
            }

            entry["video"] = JsonSerializer.SerializeToNode(video, ServerOptions.Json);
        }

        string content = image is null && persona.DropsImages
            ? $"I see no picture. Turn {request.Turn}. Text {Digest(request.LastUserText)}."
            : image is null
            ? $"No image. Turn {request.Turn}. Text {Digest(request.LastUserText)}."
            : $"{Capitalise(image.Colour)} {image.Format} image, {image.Width}x{image.Height} pixels. Turn {request.Turn}. Text {Digest(request.LastUserText)}.";

        if (entry["video"] is JsonNode seen)
        {
            content = $"Video {seen["mimeType"]} of {seen["seconds"]} s, {seen["width"]}x{seen["height"]}. Turn {request.Turn}. Text {Digest(request.LastUserText)}.";
        }

        // Several images (a clip's frames): the answer names the colour of each, in the order received, so a test
        // can tell which frames were sent and in which order.
        if (request.ImageUrls.Count > 1 && !options.NoImageDecode)
        {
            var colours = new List<string>();
            foreach (string frame in request.ImageUrls)
            {
                try
                {
                    colours.Add(ImageFacts.FromDataUri(frame).Colour);
                }
                catch (FormatException e)
                {
                    await ErrorAsync(context, 400, e.Message, "invalid_image");
                    return;
                }
            }

            entry["frames"] = new JsonArray(colours.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray());
            content = $"Frames {string.Join(", ", colours)}. " + content;
        }

        // Sampling: at a temperature above 0 a real model words each answer differently; the request number stands
        // in for that, so independent conversations of one image can be told apart. Without a temperature the
        // answer stays the same, as the other tests expect.
        if (body["temperature"] is JsonNode sampled && sampled.GetValue<double>() > 0)
        {
            content += $" Sample {number}.";
        }

        if (options.NamesModel)
        {
            content = $"By {model}: {content}";
        }

        // A schema the server constrains the answer to, or one the prompt states to a model that follows it (in a
        // Markdown fence, as chat models write JSON when only asked to).
        if (schema is not null)
        {
            content = SchemaAnswer.For(schema, image?.Colour ?? "no-image");
        }
        else if (SchemaAnswer.FromPrompt(request.LastUserText) is JsonObject stated)
        {
            content = "```json\n" + SchemaAnswer.For(stated, image?.Colour ?? "no-image") + "\n```";
        }

        string finish = "stop";
        string? reasoning = null;
        string? choiceError = null;
        switch (fault?.Kind)
        {
            case "reasoning-only":
                reasoning = "The user wants a caption. Let me think about every pixel at great length first.";
                content = "";
                finish = persona.TruncatedFinish;
                break;
            case "finish-error":
                // OpenRouter: a provider error mid-answer is finish_reason "error" with choices[].error.
                finish = "error";
                choiceError = "Upstream provider returned an error: overloaded";
                break;
            case "abort":
                finish = "abort";
                break;
            case "content-filter":
                finish = "content_filter";
                content = "";
                break;
            case "long":
                content = string.Join(' ', Enumerable.Repeat("word", Math.Max(1, fault.Words)));
                break;
            case "empty":
                content = "";
                break;
            case "length":
                finish = "length";
                break;
            case "hidden-reasoning":
                // A thinking model whose hidden reasoning used the whole limit: no content, finish_reason length, and
                // no reasoning field or count (Gemini 2.5 through its OpenAI-compatible endpoint, as issue 27 saw it).
                content = "";
                finish = "length";
                break;
            case "think":
                content = "<think>\nThe user wants a caption. Let me look at the pixels.\n</think>\n" + content;
                break;
            case "reasoning":
                reasoning = "The user wants a caption. Let me look at the pixels.";
                break;
            case "paragraphs":
                // Chat models describe in paragraphs (a blank line between them) unless told otherwise.
                content += "\n\nIn the background, nothing else.\r\n  Last line.";
                break;
            case "refuse":
                // How chat models open a refusal (OpenAI's and Anthropic's wording; Qwen and Llama say much the same).
                content = "I'm sorry, but I can't help with describing this image.";
                break;
            case "refuse-custom":
                content = $"Nope, not this one. Turn {request.Turn}.";
                break;
            case "schema-wrong":
                // JSON of another shape than asked: what a model does when nothing constrains it.
                content = "{\"wrong\": true}";
                break;
            case "blind":
                content = $"I cannot make out anything. Turn {request.Turn}. Text {Digest(request.LastUserText)}.";
                break;
        }

        int maxTokens = limit ?? int.MaxValue;
        string[] words = content.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length > maxTokens)
        {
            words = words[..maxTokens];
            content = string.Join(' ', words);
            finish = persona.TruncatedFinish;
        }

        var usage = new Usage(request.PromptTokens, words.Length + (reasoning is null ? 0 : Math.Min(maxTokens, 1000)), reasoning is null ? 0 : Math.Min(maxTokens, 1000));
        bool stream = body["stream"]?.GetValue<bool>() == true && !options.IgnoresStream;
        bool includeUsage = body["stream_options"]?["include_usage"]?.GetValue<bool>() == true;
        var reply = new Reply(number, model, content, reasoning, finish, usage, fault?.Kind, persona, choiceError);
        if (fault?.Kind == "huge")
        {
            await HugeReplyWriter.WriteAsync(context, reply, fault.Bytes, stream);
        }
        else if (stream)
        {
            await SseWriter.WriteAsync(context, reply, words, includeUsage, options.TokenLatencyMs, fault?.DelayMs ?? 0, slot.Dispose);
        }
        else
        {
            if (options.TokenLatencyMs > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(options.TokenLatencyMs * words.Length), context.RequestAborted);
            }

            slot.Dispose();
            await JsonReplyWriter.WriteAsync(context, reply);
        }
    }

    public static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];

    private static string Capitalise(string word) => word.Length == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..];

    /// <summary>llama-server while it loads: 503 on every route (format_error_response, ERROR_TYPE_UNAVAILABLE).</summary>
    public static Task LoadingAsync(HttpContext context)
    {
        context.Response.StatusCode = 503;
        return context.Response.WriteAsync("""{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}""");
    }

    /// <summary>A field the persona refuses, answered with its own error; true when it refused one.</summary>
    private static async Task<bool> RefusesFieldAsync(HttpContext context, Persona persona, JsonObject body)
    {
        if (persona.KnownFields is IReadOnlySet<string> known && body.Select(p => p.Key).FirstOrDefault(k => !known.Contains(k)) is string unknown)
        {
            if (persona.Errors == ErrorShape.MistralDetail)
            {
                await persona.ErrorAsync(context, 422, "Extra inputs are not permitted", "extra_forbidden", unknown);
            }
            else
            {
                await persona.ErrorAsync(context, 400, $"Invalid JSON payload received. Unknown name \"{unknown}\": Cannot find field.", "INVALID_ARGUMENT");
            }

            return true;
        }

        if (persona.RefusesMaxTokens && body.ContainsKey("max_tokens"))
        {
            await persona.ErrorAsync(context, 400, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "unsupported_parameter", "max_tokens");
            return true;
        }

        if (persona.TemperatureOnlyDefault && body["temperature"] is JsonNode temperature && temperature.GetValue<double>() != 1)
        {
            await persona.ErrorAsync(context, 400, $"Unsupported value: 'temperature' does not support {temperature.GetValue<double>()} with this model. Only the default (1) value is supported.", "unsupported_value", "temperature");
            return true;
        }

        return false;
    }

    /// <summary>An image the persona cannot take, answered with its own error; true when it refused it.</summary>
    private static async Task<bool> RefusesImageAsync(HttpContext context, Persona persona, ImageFacts image, string url)
    {
        if (persona.NoVisionStatus != 0)
        {
            await persona.ErrorAsync(context, persona.NoVisionStatus, persona.NoVisionMessage, persona.NoVisionStatus == 500 ? "server_error" : "invalid_request_error");
            return true;
        }

        if (persona.ImageTypes is IReadOnlySet<string> types && !types.Contains(image.DeclaredType))
        {
            await persona.ErrorAsync(context, 400, "invalid image input", "invalid_request_error");
            return true;
        }

        int base64 = url.Length - url.IndexOf(',') - 1;
        if (persona.MaxImageBase64 is long most && base64 > most)
        {
            await persona.ErrorAsync(context, 400, $"messages.0.content.1.image.source.base64: image exceeds 5 MB maximum: {base64} bytes > {most} bytes", "invalid_request_error");
            return true;
        }

        return false;
    }

    /// <summary>401, echoing the key it got when the options ask for it, as some servers do.</summary>
    public static Task UnauthorizedAsync(HttpContext context, ServerState state)
    {
        string received = context.Request.Headers.Authorization.ToString();
        if (!state.Options.EchoKey || received.Length == 0)
        {
            return ErrorAsync(context, 401, "Incorrect API key provided.", "invalid_api_key");
        }

        // The key repeated in the reason phrase, and late in a long text, where a client that cuts before it
        // redacts would show part of it.
        string key = received["Bearer ".Length..];
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>()!.ReasonPhrase = "Unauthorized " + key;
        return ErrorAsync(context, 401, $"{new string('-', 360)} Incorrect API key provided: {key}.", "invalid_api_key");
    }

    public static async Task ErrorAsync(HttpContext context, int status, string message, string code)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new { error = new { message, type = "invalid_request_error", code } });
    }

    /// <summary>The request body with each data URI replaced by its media type and size.</summary>
    private static JsonNode Redacted(JsonObject body)
    {
        var copy = body.DeepClone();
        foreach (JsonNode? message in copy["messages"]?.AsArray() ?? [])
        {
            if (message?["content"] is JsonArray parts)
            {
                foreach (JsonNode? part in parts)
                {
                    if (part?["image_url"]?["url"]?.GetValue<string>() is string url && url.IndexOf(";base64,", StringComparison.Ordinal) is int i and > 0)
                    {
                        part["image_url"]!["url"] = $"{url[..(i + 8)]}<{url.Length - i - 8} chars>";
                    }
                }
            }
        }

        return copy;
    }
}

/// <summary>The facts of a chat request the answer depends on.</summary>
public sealed class ParsedRequest
{
    public ParsedRequest(JsonArray messages)
    {
        int words = 0;
        foreach (JsonNode? message in messages)
        {
            string role = message?["role"]?.GetValue<string>() ?? "";
            JsonNode? content = message?["content"];
            var text = new StringBuilder();
            if (content is JsonValue value && value.TryGetValue(out string? s))
            {
                text.Append(s);
            }
            else if (content is JsonArray parts)
            {
                foreach (JsonNode? part in parts)
                {
                    string type = part?["type"]?.GetValue<string>() ?? "";
                    if (type == "text")
                    {
                        text.Append(part?["text"]?.GetValue<string>());
                    }
                    else if (type == "video_url")
                    {
                        VideoUrl ??= part?["video_url"]?["url"]?.GetValue<string>();
                        words += 85;
                    }
                    else if (type == "image_url")
                    {
                        if (part?["image_url"]?["url"]?.GetValue<string>() is string url)
                        {
                            ImageUrls.Add(url);
                        }

                        words += 85;
                    }
                }
            }

            words += text.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            if (role == "user")
            {
                Turn++;
                LastUserText = text.ToString();
                AllUserText.Append(text).Append('\n');
            }
        }

        PromptTokens = words;
    }

    public int Turn { get; }

    public string LastUserText { get; } = "";

    public StringBuilder AllUserText { get; } = new();

    /// <summary>The first image of the request.</summary>
    public string? ImageUrl => ImageUrls.Count > 0 ? ImageUrls[0] : null;

    /// <summary>The clip of a video_url part (vLLM's, for Qwen2.5-VL and Qwen3-VL), if any.</summary>
    public string? VideoUrl { get; private set; }

    /// <summary>Every image of the request, in order: a clip's frames are several.</summary>
    public List<string> ImageUrls { get; } = new();

    public int PromptTokens { get; }
}

public sealed record Usage(int PromptTokens, int CompletionTokens, int ReasoningTokens = 0);

public sealed record Reply(int Number, string Model, string Content, string? Reasoning, string FinishReason, Usage Usage, string? Fault, Persona Persona, string? ChoiceError = null);
