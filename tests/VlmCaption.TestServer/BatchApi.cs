using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VlmCaption.TestServer;

/// <summary>
/// OpenAI's Batch API as its reference documents it (platform.openai.com/docs/guides/batch and the API reference
/// for /v1/files and /v1/batches; the same shapes in openai-python's src/openai/types/batch.py): a JSONL input file
/// uploaded with purpose "batch", one line {"custom_id", "method": "POST", "url", "body"} per request; a batch
/// that goes validating → in_progress → finalizing → completed (or failed, expired, cancelling → cancelled); an
/// output file of {"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"} lines and an
/// error file for requests that did not get a 200. Documented limits: 50 000 requests and 200 MB per input file.
/// SGLang and LiteLLM serve the same routes, and vLLM's run-batch reads and writes the same line formats.
/// Each request is answered by this server's own /v1/chat/completions, so a batch answers exactly as live
/// requests do, faults included. Options: BatchStepMs (time per state), BatchFault ("fail", "expire", or "limit":
/// one batch at a time, a batch created while another runs fails validation with token_limit_exceeded, as OpenAI's
/// enqueued-token limit fails batches past it, platform.openai.com/docs/guides/rate-limits "Batch API" limits;
/// A file whose requests name more than one model fails validation (mixed_models). "otherInput": the batch's status names an input file other than the one it was created with, a provider's
/// mix-up no documentation promises away, for the client's check of input_file_id), BatchOutputExpiresMs and
/// BatchOutputPadBytes.
/// </summary>
public sealed class BatchApi(ServerState state, Func<Uri> address)
{
    public const int MaxRequests = 50_000;
    public const long MaxFileBytes = 200L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, StoredFile> files = new();
    private readonly ConcurrentDictionary<string, JsonObject> batches = new();
    private readonly HttpClient loopback = new();
    private int next;

    private sealed record StoredFile(string Id, string Name, string Purpose, byte[] Content, long CreatedAt)
    {
        public long CreatedAtMs { get; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    }

    public void Map(WebApplication app)
    {
        state.StoredFileCount = () => files.Count;

        // Only some servers have these routes: the others answer as they answer any route they lack.
        app.Use(async (context, next) =>
        {
            string path = context.Request.Path.Value ?? "";
            if ((path.StartsWith("/v1/files", StringComparison.Ordinal) || path.StartsWith("/v1/batches", StringComparison.Ordinal)) && !state.Persona.ServesBatches)
            {
                if (state.Persona.UnknownRoutesAnswer200)
                {
                    await Results.Json(new { error = $"Unexpected endpoint or method. ({context.Request.Method} {path})" }).ExecuteAsync(context);
                }
                else
                {
                    await Results.Json(new { detail = "Not Found" }, statusCode: 404).ExecuteAsync(context);
                }

                return;
            }

            // Faults a test switches on: OpenAI's error codes guide documents 429 (rate limit, with Retry-After)
            // and 500/503 on any route; every answer carries x-request-id (API reference, "Debugging requests").
            if (Route(context.Request.Method, path) is string route
                && state.Options.BatchRouteFaults.FirstOrDefault(f => f.Route == route && Interlocked.Increment(ref f.Fired) <= f.Times) is BatchRouteFault fault)
            {
                context.Response.Headers["x-request-id"] = NewId("req_fault");
                if (fault.RetryAfter is int seconds)
                {
                    context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                Interlocked.Increment(ref state.BatchRouteFaultsFired);
                await Results.Json(new { error = new { message = $"Scripted fault on {route}.", type = fault.Status == 429 ? "rate_limit_exceeded" : "server_error", code = (string?)null } }, statusCode: fault.Status).ExecuteAsync(context);
                return;
            }

            await next();
        });
        // Typed as Func so that minimal APIs write the returned result (a bare method group would bind as a RequestDelegate).
        app.MapPost("/v1/files", (Func<HttpContext, Task<IResult>>)UploadAsync);
        app.MapGet("/v1/files/{id}", (string id) => files.TryGetValue(id, out StoredFile? file) ? Results.Json(Describe(file)) : NotFound("file", id));
        app.MapGet("/v1/files/{id}/content", (Func<HttpContext, string, Task>)ContentAsync);
        // DELETE /v1/files/{id} answers {"id", "object": "file", "deleted": true} (the API reference's Delete file).
        app.MapDelete("/v1/files/{id}", (string id) => files.TryRemove(id, out _) ? Results.Json(new { id, @object = "file", deleted = true }) : NotFound("file", id));
        app.MapPost("/v1/batches", (Func<HttpContext, Task<IResult>>)CreateAsync);
        // GET /v1/batches lists them (the API reference's List batch: {"object": "list", "data", "has_more"}).
        app.MapGet("/v1/batches", (int? limit) => Results.Json(new { @object = "list", data = batches.Values.Take(limit ?? 20).Select(b => { lock (b) { return JsonNode.Parse(b.ToJsonString()); } }).ToArray(), has_more = batches.Count > (limit ?? 20) }));
        app.MapGet("/v1/batches/{id}", (string id) => batches.TryGetValue(id, out JsonObject? batch) ? Status(batch) : NotFound("batch", id));
        app.MapPost("/v1/batches/{id}/cancel", (string id) => Cancel(id));
    }

    /// <summary>A batch's status; with BatchFault "otherInput" it names another input file than its own.</summary>
    private IResult Status(JsonObject batch)
    {
        if (state.Options.BatchFault != "otherInput")
        {
            return Json(batch);
        }

        lock (batch)
        {
            JsonObject mixed = batch.DeepClone().AsObject();
            mixed["input_file_id"] = "file_of_another_batch";
            return Results.Text(mixed.ToJsonString(), "application/json");
        }
    }

    /// <summary>
    /// A file's content (GET /v1/files/{id}/content), streamed and counted; an output file that expired answers 404
    /// as a deleted one does, and BatchOutputPadBytes more bytes follow an output's lines.
    /// </summary>
    private async Task ContentAsync(HttpContext context, string id)
    {
        if (!files.TryGetValue(id, out StoredFile? file) || Expired(file))
        {
            await NotFound("file", id).ExecuteAsync(context);
            return;
        }

        context.Response.ContentType = "application/jsonl";
        long pad = file.Purpose == "batch_output" ? state.Options.BatchOutputPadBytes : 0;
        context.Response.ContentLength = file.Content.LongLength + pad;
        await context.Response.Body.WriteAsync(file.Content, context.RequestAborted);
        Interlocked.Add(ref state.DownloadedBytes, file.Content.LongLength);
        byte[] chunk = Encoding.ASCII.GetBytes(new string('x', 1 << 16));
        for (long sent = 0; sent < pad; sent += chunk.Length)
        {
            int size = (int)Math.Min(chunk.Length, pad - sent);
            if (sent + size == pad)
            {
                chunk[size - 1] = (byte)'\n';
            }

            // Each chunk waits until the connection takes it (backpressure), and a client that stopped reading
            // and closed the connection completes the writer: the count stops there. (Kestrel's plain writes
            // after a close are silent no-ops, which would count bytes nobody read.)
            System.IO.Pipelines.FlushResult flushed = await context.Response.BodyWriter.WriteAsync(chunk.AsMemory(0, size), context.RequestAborted);
            if (flushed.IsCompleted || flushed.IsCanceled || context.RequestAborted.IsCancellationRequested)
            {
                return;
            }

            Interlocked.Add(ref state.DownloadedBytes, size);
        }
    }

    private bool Expired(StoredFile file) =>
        state.Options.BatchOutputExpiresMs > 0 && file.Purpose is "batch_output" or "batch_error"
        && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - file.CreatedAtMs > state.Options.BatchOutputExpiresMs;

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The name a route fault uses for a request of the Batch API.</summary>
    private static string? Route(string method, string path) => (method, path.TrimEnd('/').Split('/').Length) switch
    {
        ("GET", 3) when path.StartsWith("/v1/batches", StringComparison.Ordinal) => "list",
        ("POST", 3) when path.StartsWith("/v1/files", StringComparison.Ordinal) => "upload",
        ("POST", 3) when path.StartsWith("/v1/batches", StringComparison.Ordinal) => "create",
        ("GET", 4) when path.StartsWith("/v1/batches/", StringComparison.Ordinal) => "poll",
        ("GET", 5) when path.StartsWith("/v1/files/", StringComparison.Ordinal) && path.EndsWith("/content", StringComparison.Ordinal) => "download",
        ("DELETE", 4) when path.StartsWith("/v1/files/", StringComparison.Ordinal) => "delete",
        _ => null,
    };

    private string NewId(string prefix) => $"{prefix}_{Interlocked.Increment(ref next):D6}";

    private static IResult Json(JsonObject value)
    {
        lock (value)
        {
            return Results.Text(value.ToJsonString(), "application/json");
        }
    }

    private static IResult NotFound(string what, string id) =>
        Results.Json(new { error = new { message = $"No such {what}: '{id}'.", type = "invalid_request_error", code = (string?)null } }, statusCode: 404);

    private static IResult Invalid(string message) =>
        Results.Json(new { error = new { message, type = "invalid_request_error", code = (string?)null } }, statusCode: 400);

    private static object Describe(StoredFile file) =>
        new { id = file.Id, @object = "file", bytes = file.Content.LongLength, created_at = file.CreatedAt, filename = file.Name, purpose = file.Purpose };

    private async Task<IResult> UploadAsync(HttpContext context)
    {
        if (!state.IsAuthorized(context))
        {
            return Results.Json(new { error = new { message = "Incorrect API key provided.", type = "invalid_request_error" } }, statusCode: 401);
        }

        if (!context.Request.HasFormContentType)
        {
            return Invalid("Expected multipart/form-data with 'purpose' and 'file'.");
        }

        IFormCollection form = await context.Request.ReadFormAsync();
        IFormFile? upload = form.Files.GetFile("file");
        string purpose = form["purpose"].ToString();
        if (upload is null || purpose.Length == 0)
        {
            return Invalid("Both 'file' and 'purpose' are required.");
        }

        if (upload.Length > MaxFileBytes)
        {
            return Invalid($"File is too large: {upload.Length} bytes; the limit is {MaxFileBytes} bytes.");
        }

        using var buffer = new MemoryStream();
        await upload.CopyToAsync(buffer);
        var file = new StoredFile(NewId("file"), upload.FileName, purpose, buffer.ToArray(), Now);
        files[file.Id] = file;
        Interlocked.Increment(ref state.FilesUploaded);
        Interlocked.Add(ref state.UploadedBytes, file.Content.LongLength);
        return Results.Json(Describe(file));
    }

    private async Task<IResult> CreateAsync(HttpContext context)
    {
        if (!state.IsAuthorized(context))
        {
            return Results.Json(new { error = new { message = "Incorrect API key provided.", type = "invalid_request_error" } }, statusCode: 401);
        }

        JsonNode? body = await JsonNode.ParseAsync(context.Request.Body);
        string inputFileId = body?["input_file_id"]?.GetValue<string>() ?? "";
        string endpoint = body?["endpoint"]?.GetValue<string>() ?? "";
        string window = body?["completion_window"]?.GetValue<string>() ?? "";
        if (!files.TryGetValue(inputFileId, out StoredFile? input))
        {
            return Invalid($"No such file: '{inputFileId}'.");
        }

        if (endpoint != "/v1/chat/completions")
        {
            return Invalid($"Unsupported endpoint '{endpoint}'; this server batches /v1/chat/completions.");
        }

        if (window != "24h")
        {
            return Invalid($"Invalid completion_window '{window}'; only '24h' is supported.");
        }

        var batch = new JsonObject
        {
            ["id"] = NewId("batch"),
            ["object"] = "batch",
            ["endpoint"] = endpoint,
            ["errors"] = null,
            ["input_file_id"] = inputFileId,
            ["completion_window"] = window,
            ["status"] = "validating",
            ["output_file_id"] = null,
            ["error_file_id"] = null,
            ["created_at"] = Now,
            ["in_progress_at"] = null,
            ["expires_at"] = Now + 86400,
            ["completed_at"] = null,
            ["failed_at"] = null,
            ["expired_at"] = null,
            ["cancelled_at"] = null,
            ["request_counts"] = new JsonObject { ["total"] = 0, ["completed"] = 0, ["failed"] = 0 },
            ["metadata"] = body?["metadata"]?.DeepClone(),
        };
        bool overLimit = state.Options.BatchFault == "limit" && batches.Values.Any(other => Is(other, "validating") || Is(other, "in_progress") || Is(other, "finalizing"));
        batches[batch["id"]!.GetValue<string>()] = batch;
        Interlocked.Increment(ref state.BatchesCreated);
        string? authorization = context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null;
        _ = Task.Run(() => RunAsync(batch, input, authorization, overLimit));
        return Json(batch);
    }

    private IResult Cancel(string id)
    {
        if (!batches.TryGetValue(id, out JsonObject? batch))
        {
            return NotFound("batch", id);
        }

        lock (batch)
        {
            string status = batch["status"]!.GetValue<string>();
            if (status is "validating" or "in_progress" or "finalizing")
            {
                batch["status"] = "cancelling";
                batch["cancelling_at"] = Now;
            }
        }

        return Json(batch);
    }

    private void Set(JsonObject batch, Action<JsonObject> change)
    {
        lock (batch)
        {
            change(batch);
        }
    }

    private bool Is(JsonObject batch, string status)
    {
        lock (batch)
        {
            return batch["status"]!.GetValue<string>() == status;
        }
    }

    private async Task RunAsync(JsonObject batch, StoredFile input, string? authorization, bool overLimit)
    {
        int step = state.Options.BatchStepMs;
        await Task.Delay(step);

        // Validation: every line a request to the batch's endpoint, custom_ids unique, within the limits.
        var requests = new List<(string CustomId, JsonNode Body)>();
        var errors = new JsonArray();
        string[] lines = Encoding.UTF8.GetString(input.Content).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (lines.Length > MaxRequests)
        {
            errors.Add(new JsonObject { ["code"] = "too_many_requests", ["message"] = $"The input file has {lines.Length} requests; the limit is {MaxRequests}.", ["line"] = null });
        }

        for (int i = 0; i < lines.Length && errors.Count < 10; i++)
        {
            try
            {
                JsonNode line = JsonNode.Parse(lines[i])!;
                string customId = line["custom_id"]!.GetValue<string>();
                if (line["method"]?.GetValue<string>() != "POST" || line["url"]?.GetValue<string>() != batch["endpoint"]!.GetValue<string>() || line["body"] is null)
                {
                    errors.Add(new JsonObject { ["code"] = "invalid_request", ["message"] = "Each line must be a POST to the batch's endpoint with a body.", ["line"] = i + 1 });
                }
                else if (!seen.Add(customId))
                {
                    errors.Add(new JsonObject { ["code"] = "duplicate_custom_id", ["message"] = $"The custom_id '{customId}' appears more than once.", ["line"] = i + 1 });
                }
                else
                {
                    requests.Add((customId, line["body"]!));
                }
            }
            catch (Exception e) when (e is JsonException || e is InvalidOperationException || e is NullReferenceException)
            {
                errors.Add(new JsonObject { ["code"] = "invalid_json_line", ["message"] = $"Line {i + 1} is not a JSON request.", ["line"] = i + 1 });
            }
        }

        // One model a batch: OpenAI's batch guide asks that an input file hold requests to one model, and
        // OpenAI-compatible providers document that a file mixing models fails validation (Morph's Batch API:
        // "Every line in a batch must name the same model"; Novita's batch guide says the same).
        string[] models = requests.Select(r => r.Body["model"]?.GetValue<string>() ?? "").Distinct(StringComparer.Ordinal).ToArray();
        if (models.Length > 1)
        {
            errors.Add(new JsonObject { ["code"] = "mixed_models", ["message"] = $"The input file has requests to {models.Length} models ({string.Join(", ", models)}); a batch takes requests to one model.", ["line"] = null });
        }

        if (overLimit)
        {
            errors.Add(new JsonObject { ["code"] = "token_limit_exceeded", ["message"] = $"Enqueued token limit reached for {ModelOf(requests)} in organization org-test. Limit: 90,000 enqueued tokens. Please try submitting an input file with fewer tokens, or wait for your existing batch jobs to finish.", ["line"] = null });
        }

        if (errors.Count > 0 || state.Options.BatchFault == "fail")
        {
            if (errors.Count == 0)
            {
                errors.Add(new JsonObject { ["code"] = "scripted_fault", ["message"] = "Scripted fault: the batch failed validation.", ["line"] = null });
            }

            Set(batch, b => { b["status"] = "failed"; b["failed_at"] = Now; b["errors"] = new JsonObject { ["object"] = "list", ["data"] = errors }; });
            return;
        }

        Set(batch, b =>
        {
            // A batch cancelled while it was validated stays cancelling: nothing of it runs.
            if (b["status"]!.GetValue<string>() != "cancelling")
            {
                b["status"] = "in_progress";
                b["in_progress_at"] = Now;
            }

            b["request_counts"]!["total"] = requests.Count;
        });
        await Task.Delay(step);
        var output = new StringBuilder();
        var failures = new StringBuilder();
        int done = 0;
        foreach ((string customId, JsonNode body) in requests)
        {
            if (Is(batch, "cancelling"))
            {
                break;
            }

            if (state.Options.BatchFault == "expire" && done == requests.Count / 2)
            {
                // Expired: the window passed; what was done is kept, the rest is reported as expired.
                break;
            }

            (int status, JsonNode? answer) = await AnswerAsync(body, authorization);
            var line = new JsonObject
            {
                ["id"] = NewId("batch_req"),
                ["custom_id"] = customId,
                ["response"] = new JsonObject { ["status_code"] = status, ["request_id"] = NewId("req"), ["body"] = answer },
                ["error"] = null,
            };
            (status == 200 ? output : failures).Append(line.ToJsonString()).Append('\n');
            done++;
            Set(batch, b => b["request_counts"]![status == 200 ? "completed" : "failed"] = b["request_counts"]![status == 200 ? "completed" : "failed"]!.GetValue<int>() + 1);
        }

        // Requests not reached when the window passed or the batch was cancelled go to the error file, as OpenAI
        // reports them (error codes batch_expired, batch_cancelled).
        string notRun = Is(batch, "cancelling") ? "batch_cancelled" : "batch_expired";
        foreach ((string customId, _) in requests.Skip(done))
        {
            var line = new JsonObject
            {
                ["id"] = NewId("batch_req"),
                ["custom_id"] = customId,
                ["response"] = null,
                ["error"] = new JsonObject { ["code"] = notRun, ["message"] = notRun == "batch_expired" ? "This request could not be executed before the completion window expired." : "This request was not executed because the batch was cancelled." },
            };
            failures.Append(line.ToJsonString()).Append('\n');
        }

        Set(batch, b => b["status"] = Is(batch, "cancelling") ? "cancelling" : "finalizing");
        await Task.Delay(step);

        // "The output line order may not match the input line order" (platform.openai.com/docs/guides/batch):
        // lines are matched by custom_id, so they are written here in an order of their own.
        Reorder(output);
        Reorder(failures);
        string? outputId = output.Length > 0 ? Store(output, "batch_output") : null;
        string? errorId = failures.Length > 0 ? Store(failures, "batch_error") : null;
        Set(batch, b =>
        {
            b["output_file_id"] = outputId;
            b["error_file_id"] = errorId;
            if (b["status"]!.GetValue<string>() == "cancelling")
            {
                b["status"] = "cancelled";
                b["cancelled_at"] = Now;
            }
            else if (state.Options.BatchFault == "expire")
            {
                b["status"] = "expired";
                b["expired_at"] = Now;
            }
            else
            {
                b["status"] = "completed";
                b["completed_at"] = Now;
            }
        });
    }

    private static void Reorder(StringBuilder lines)
    {
        string[] all = lines.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Array.Reverse(all);
        lines.Clear();
        foreach (string line in all)
        {
            lines.Append(line).Append('\n');
        }
    }

    private static string ModelOf(List<(string CustomId, JsonNode Body)> requests) =>
        requests.Count > 0 && requests[0].Body["model"] is JsonNode model ? model.GetValue<string>() : "the model";

    private string Store(StringBuilder text, string purpose)
    {
        var file = new StoredFile(NewId("file"), purpose + ".jsonl", purpose, Encoding.UTF8.GetBytes(text.ToString()), Now);
        files[file.Id] = file;
        return file.Id;
    }

    /// <summary>One request of the batch, answered by this server's own chat endpoint (never streamed: a batch has no stream).</summary>
    private async Task<(int Status, JsonNode? Body)> AnswerAsync(JsonNode body, string? authorization)
    {
        JsonObject request = body.DeepClone().AsObject();
        request.Remove("stream");
        request.Remove("stream_options");
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(address(), "/v1/chat/completions"))
        {
            Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (authorization is not null)
        {
            message.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using HttpResponseMessage response = await loopback.SendAsync(message);
        string text = await response.Content.ReadAsStringAsync();
        JsonNode? answer;
        try
        {
            answer = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            answer = JsonValue.Create(text);
        }

        return ((int)response.StatusCode, answer);
    }
}
