// The SDK marks its batch client and the AuthenticationPolicy constructor experimental; its version is pinned.
#pragma warning disable OPENAI001
using System;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.IO;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using OpenAI;
using OpenAI.Batch;
using OpenAI.Files;
using VlmCaption.Transport;

namespace VlmCaption.Batch
{
    /// <summary>What a batch's status says (GET /v1/batches/{id}).</summary>
    internal sealed class BatchStatus
    {
        public string Status { get; set; } = "";

        public int Total { get; set; }

        public int Completed { get; set; }

        public int Failed { get; set; }

        public string? OutputFileId { get; set; }

        public string? ErrorFileId { get; set; }

        /// <summary>The file the batch runs, which must be the one the run uploaded for it.</summary>
        public string? InputFileId { get; set; }

        /// <summary>The batch's own errors (a failed validation), as one text.</summary>
        public string Errors { get; set; } = "";

        /// <summary>The batch has ended: nothing of it changes any more.</summary>
        public bool Ended => Status is "completed" or "failed" or "expired" or "cancelled";
    }

    /// <summary>
    /// OpenAI's Files and Batches API through the OpenAI SDK (upload with purpose "batch", create with a 24h
    /// window, read the status, download the output), as OpenAI, SGLang and LiteLLM serve it. Transient failures
    /// (429, 5xx, a dropped connection) are tried again with the live path's backoff; anything else ends the run
    /// with the server's own words, since every image would meet it.
    /// </summary>
    internal sealed class BatchService
    {
        private readonly OpenAIFileClient files;
        private readonly BatchClient batches;
        private readonly Uri endpoint;
        private readonly string apiKey;
        private readonly string shownUrl;
        private readonly TimeSpan timeout;
        private readonly int maxRetries;

        public BatchService(CaptionSettings settings)
        {
            endpoint = EndpointUrl.Parse(settings.BaseUrl);
            shownUrl = EndpointUrl.Display(settings.BaseUrl);
            apiKey = settings.ApiKey;
            timeout = settings.Timeout;
            maxRetries = settings.MaxRetries;
            OpenAIClientOptions options = ChatEndpoint.ClientOptions(settings.BaseUrl, settings.Timeout, settings.Proxy);
            var batchOptions = new BatchClientOptions { Endpoint = endpoint, RetryPolicy = new ClientRetryPolicy(0), NetworkTimeout = settings.Timeout, UserAgentApplicationId = "VlmCaption" };
            if (settings.Proxy is not null)
            {
                batchOptions.Transport = settings.Proxy.Transport();
            }
            if (string.IsNullOrEmpty(apiKey))
            {
                files = new OpenAIFileClient(new NoAuthenticationPolicy(), options);
                batches = new BatchClient(new NoAuthenticationPolicy(), batchOptions);
            }
            else
            {
                files = new OpenAIFileClient(new ApiKeyCredential(apiKey), options);
                batches = new BatchClient(new ApiKeyCredential(apiKey), batchOptions);
            }
        }

        private const string WhereBatchesRun = "Servers that run batches: OpenAI, SGLang, LiteLLM; vLLM runs request files offline with run-batch (use -BatchFiles); or caption live without -Batch.";

        /// <summary>The first backoff step between retries; tests shorten it.</summary>
        public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>
        /// Asks whether the endpoint has a Batch API before anything is prepared (GET /batches?limit=1): a 404, or
        /// LM Studio's HTTP 200 with an error, says it has none; a 405 means the route is there for other methods.
        /// </summary>
        public Task CheckAsync(Action<string>? log, CancellationToken cancellationToken) =>
            WithRetriesAsync("list batches (GET /batches)", log, cancellationToken, async () =>
            {
                using PipelineMessage message = Message("GET", "batches?limit=1", cancellationToken, buffer: true);
                await files.Pipeline.SendAsync(message).ConfigureAwait(false);
                PipelineResponse response = message.Response!;
                if (response.Status == 404)
                {
                    throw new CaptionException("BatchApiMissing", CaptionErrorCategory.ObjectNotFound, $"{shownUrl} has no Batch API: it answered HTTP 404 to GET /batches. {WhereBatchesRun}") { StatusCode = 404 };
                }

                if (response.Status == 200)
                {
                    bool listed;
                    try
                    {
                        using JsonDocument document = JsonDocument.Parse(response.Content);
                        listed = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("data", out _);
                    }
                    catch (JsonException)
                    {
                        listed = false;
                    }

                    if (!listed)
                    {
                        string said = ServerError.Describe(ServerError.ReadMessage(response.Content), apiKey);
                        throw new CaptionException("BatchApiMissing", CaptionErrorCategory.ObjectNotFound, $"{shownUrl} has no Batch API: asked to list batches (GET /batches), it answered {(said.Length > 0 ? said : "something else")}. {WhereBatchesRun}");
                    }
                }
                else if (response.Status != 405)
                {
                    Check(response);
                }

                return true;
            });

        /// <summary>Uploads a request file; returns its file id.</summary>
        public Task<string> UploadAsync(string path, Action<string>? log, CancellationToken cancellationToken) =>
            WithRetriesAsync("upload '" + Path.GetFileName(path) + "' (POST /files)", log, cancellationToken, async () =>
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                ClientResult<OpenAIFile> result = await files.UploadFileAsync(stream, Path.GetFileName(path), FileUploadPurpose.Batch, cancellationToken).ConfigureAwait(false);
                if (string.IsNullOrEmpty(result.Value?.Id))
                {
                    // LM Studio answers a route it lacks with HTTP 200 and an error.
                    string said = ServerError.Describe(ServerError.ReadMessage(result.GetRawResponse().Content), apiKey);
                    throw new CaptionException("BatchApiMissing", CaptionErrorCategory.ObjectNotFound, $"{shownUrl} has no Batch API: asked to store a file (POST /files), it answered {(said.Length > 0 ? said : "without a file id")}. {WhereBatchesRun}");
                }

                return result.Value!.Id;
            });

        /// <summary>Creates a batch of an uploaded file; returns its batch id.</summary>
        public Task<string> CreateAsync(string fileId, string name, Action<string>? log, CancellationToken cancellationToken) =>
            WithRetriesAsync("create a batch (POST /batches)", log, cancellationToken, async () =>
            {
                string request = JsonSerializer.Serialize(new { input_file_id = fileId, endpoint = BatchParts.Url, completion_window = "24h", metadata = new { vlmcaption = name } });
                CreateBatchOperation operation = await batches.CreateBatchAsync(BinaryContent.Create(BinaryData.FromString(request)), waitUntilCompleted: false, new RequestOptions { CancellationToken = cancellationToken }).ConfigureAwait(false);
                using JsonDocument created = JsonDocument.Parse(operation.GetRawResponse().Content);
                return created.RootElement.GetProperty("id").GetString() ?? throw new FormatException("the created batch has no id");
            });

        /// <summary>Reads a batch's status.</summary>
        public Task<BatchStatus> GetAsync(string batchId, Action<string>? log, CancellationToken cancellationToken) =>
            WithRetriesAsync("read batch " + batchId + " (GET /batches)", log, cancellationToken, async () =>
            {
                using PipelineMessage message = Message("GET", "batches/" + Uri.EscapeDataString(batchId), cancellationToken, buffer: true);
                await files.Pipeline.SendAsync(message).ConfigureAwait(false);
                PipelineResponse response = Check(message.Response!);
                using JsonDocument document = JsonDocument.Parse(response.Content);
                return ReadStatus(document.RootElement);
            });

        /// <summary>
        /// Streams a file's content to <paramref name="destination"/> (renamed into place), at most
        /// <paramref name="maxBytes"/> of it: false when the file was longer and its end was not kept (the requests
        /// whose answers were not kept are sent again).
        /// </summary>
        public Task<bool> DownloadAsync(string fileId, string destination, long maxBytes, Action<string>? log, CancellationToken cancellationToken) =>
            WithRetriesAsync("download file " + fileId + " (GET /files/.../content)", log, cancellationToken, async () =>
            {
                using PipelineMessage message = Message("GET", "files/" + Uri.EscapeDataString(fileId) + "/content", cancellationToken, buffer: false);
                await files.Pipeline.SendAsync(message).ConfigureAwait(false);
                using PipelineResponse response = message.Response!;
                Stream content = response.ContentStream ?? Stream.Null;
                if (response.Status < 200 || response.Status >= 300)
                {
                    // An error's body is read only as far as an error message goes.
                    byte[] said = await BoundedRead.ReadPrefixAsync(content, MaxErrorBytes, cancellationToken).ConfigureAwait(false);
                    throw new ClientResultException(ServerError.Describe(ServerError.ReadMessage(said), apiKey), response);
                }

                long written = 0;
                bool whole = true;
                BatchFolder.WriteWhole(destination, target =>
                {
                    var buffer = new byte[1 << 16];
                    int read;
                    while ((read = content.ReadAsync(buffer, 0, buffer.Length, cancellationToken).GetAwaiter().GetResult()) > 0)
                    {
                        int kept = (int)Math.Min(read, maxBytes - written);
                        target.Write(buffer, 0, kept);
                        written += kept;
                        if (kept < read)
                        {
                            whole = false;
                            break;
                        }
                    }
                });
                return whole;
            });

        /// <summary>Asks the provider to cancel a batch (POST /batches/{id}/cancel); returns the status it answers with.</summary>
        public Task<BatchStatus> CancelAsync(string batchId, Action<string>? log, CancellationToken cancellationToken) =>
            WithRetriesAsync("cancel batch " + batchId + " (POST /batches/.../cancel)", log, cancellationToken, async () =>
            {
                using PipelineMessage message = Message("POST", "batches/" + Uri.EscapeDataString(batchId) + "/cancel", cancellationToken, buffer: true);
                await files.Pipeline.SendAsync(message).ConfigureAwait(false);
                PipelineResponse response = Check(message.Response!);
                using JsonDocument document = JsonDocument.Parse(response.Content);
                return ReadStatus(document.RootElement);
            });

        /// <summary>Deletes a file from the provider's storage (OpenAI keeps batch files until they are deleted); false when it could not.</summary>
        public async Task<bool> DeleteAsync(string fileId, Action<string>? log, CancellationToken cancellationToken)
        {
            try
            {
                return await WithRetriesAsync("delete file " + fileId + " (DELETE /files)", log, cancellationToken, async () =>
                {
                    await files.DeleteFileAsync(fileId, cancellationToken).ConfigureAwait(false);
                    return true;
                }).ConfigureAwait(false);
            }
            catch (CaptionException e) when (!cancellationToken.IsCancellationRequested)
            {
                log?.Invoke($"{shownUrl} did not delete file {fileId}: {e.Message}");
                return false;
            }
        }

        // The most of an error's body read: its message is a few hundred bytes.
        private const int MaxErrorBytes = 65536;

        private PipelineMessage Message(string method, string relative, CancellationToken cancellationToken, bool buffer)
        {
            PipelineMessage message = files.Pipeline.CreateMessage();
            message.Request.Method = method;
            message.Request.Uri = new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + relative);
            message.Request.Headers.Set("Accept", "application/json");
            message.Apply(new RequestOptions { CancellationToken = cancellationToken, ErrorOptions = ClientErrorBehaviors.NoThrow });

            // After Apply, which sets buffering from the options it is given: a download is streamed to disk, never held.
            message.BufferResponse = buffer;
            return message;
        }

        /// <summary>The message in an error's body; <paramref name="fallback"/> for a streamed response, whose body was read (bounded) before.</summary>
        private string ErrorText(PipelineResponse response, string fallback)
        {
            try
            {
                return ServerError.Describe(ServerError.ReadMessage(response.Content), apiKey);
            }
            catch (InvalidOperationException)
            {
                return fallback;
            }
        }

        private static PipelineResponse Check(PipelineResponse response)
        {
            if (response.Status < 200 || response.Status >= 300)
            {
                throw new ClientResultException(response);
            }

            return response;
        }

        internal static BatchStatus ReadStatus(JsonElement root)
        {
            var status = new BatchStatus
            {
                Status = root.TryGetProperty("status", out JsonElement s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "",
                OutputFileId = Text(root, "output_file_id"),
                ErrorFileId = Text(root, "error_file_id"),
                InputFileId = Text(root, "input_file_id"),
            };
            if (root.TryGetProperty("request_counts", out JsonElement counts) && counts.ValueKind == JsonValueKind.Object)
            {
                status.Total = Number(counts, "total");
                status.Completed = Number(counts, "completed");
                status.Failed = Number(counts, "failed");
            }

            if (root.TryGetProperty("errors", out JsonElement errors) && errors.ValueKind == JsonValueKind.Object && errors.TryGetProperty("data", out JsonElement data) && data.ValueKind == JsonValueKind.Array)
            {
                var text = new StringBuilder();
                foreach (JsonElement error in data.EnumerateArray())
                {
                    string code = Text(error, "code") ?? "";
                    string message = Text(error, "message") ?? "";
                    string line = error.TryGetProperty("line", out JsonElement l) && l.ValueKind == JsonValueKind.Number ? $" (line {l.GetInt32()})" : "";
                    text.Append(text.Length > 0 ? "; " : "").Append(code.Length > 0 ? code + ": " : "").Append(message).Append(line);
                }

                status.Errors = text.ToString();
            }

            return status;
        }

        private static string? Text(JsonElement element, string name) =>
            element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        private static int Number(JsonElement element, string name) =>
            element.TryGetProperty(name, out JsonElement value) && value.TryGetInt32(out int number) ? number : 0;

        /// <summary>Runs one call of the API, trying again after transient failures; other failures end the run.</summary>
        private async Task<T> WithRetriesAsync<T>(string what, Action<string>? log, CancellationToken cancellationToken, Func<Task<T>> call)
        {
            for (int attempt = 0; ; attempt++)
            {
                CaptionException failure;
                bool transient;
                TimeSpan? retryAfter = null;
                try
                {
                    return await call().ConfigureAwait(false);
                }
                catch (ClientResultException e) when (e.Status == 0 && !cancellationToken.IsCancellationRequested)
                {
                    // No answer at all: the connection dropped while the request was sent or read.
                    failure = new CaptionException("ConnectionFailed", CaptionErrorCategory.ConnectionError, $"{shownUrl} dropped the connection when asked to {what}: {(e.InnerException ?? e).Message}", e);
                    transient = true;
                }
                catch (ClientResultException e)
                {
                    PipelineResponse? response = e.GetRawResponse();
                    string text = response is null ? e.Message : ErrorText(response, e.Message);
                    if (response is not null)
                    {
                        response.Headers.TryGetValue("retry-after-ms", out string? retryAfterMs);
                        response.Headers.TryGetValue("Retry-After", out string? retryAfterText);
                        retryAfter = RetryDelay.Parse(retryAfterMs, retryAfterText, DateTimeOffset.UtcNow);

                        // The provider's id of the request, which its support asks for.
                        if (response.Headers.TryGetValue("x-request-id", out string? requestId) && requestId is { Length: > 0 } id)
                        {
                            text += $" (request id {ServerError.Redact(id, apiKey)})";
                        }
                    }

                    transient = RetryDelay.IsTransientStatus(e.Status);
                    failure = e.Status == 404 && (what.Contains("POST /files") || what.Contains("POST /batches"))
                        ? new CaptionException("BatchApiMissing", CaptionErrorCategory.ObjectNotFound, $"{shownUrl} has no Batch API: it answered HTTP 404 when asked to {what}. {WhereBatchesRun}") { StatusCode = 404 }
                        : new CaptionException(e.Status is 401 or 403 ? "AuthenticationFailed" : "BatchRequestFailed", e.Status is 401 or 403 ? CaptionErrorCategory.AuthenticationError : CaptionErrorCategory.ProtocolError, $"{shownUrl} refused to {what}: HTTP {e.Status}: {text}") { StatusCode = e.Status };
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not CaptionException && ServerFailure.FromTransport(e, shownUrl, timeout) is CaptionException transportFailure)
                {
                    failure = transportFailure;
                    transient = true;
                }
                catch (Exception e) when (e is JsonException || e is FormatException || e is InvalidOperationException || e is System.Collections.Generic.KeyNotFoundException)
                {
                    failure = new CaptionException("BatchRequestFailed", CaptionErrorCategory.ProtocolError, $"{shownUrl} answered the request to {what} with something that is not the Batch API's JSON: {e.Message}", e);
                    transient = false;
                }

                if (!transient || attempt >= maxRetries)
                {
                    throw failure;
                }

                TimeSpan delay = RetryDelay.Next(attempt, RetryBaseDelay, retryAfter);
                log?.Invoke($"{failure.Message} Retry {attempt + 1} of {maxRetries} in {delay.TotalSeconds:0.0} s.");
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
