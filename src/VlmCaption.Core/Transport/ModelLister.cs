using System;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using OpenAI;
using OpenAI.Models;

namespace VlmCaption.Transport
{
    /// <summary>Reads GET /models through the OpenAI SDK's pipeline.</summary>
    public static class ModelLister
    {
        /// <summary>The models the endpoint lists; throws <see cref="CaptionException"/> with a diagnosis when it cannot.</summary>
        public static async Task<IReadOnlyList<VlmModel>> ListAsync(string baseUrl, string apiKey, TimeSpan timeout, CancellationToken cancellationToken, ProxySettings? proxy = null)
        {
            OpenAIClientOptions options = ChatEndpoint.ClientOptions(baseUrl, timeout, proxy);
#pragma warning disable OPENAI001 // The AuthenticationPolicy constructor is marked experimental; the SDK version is pinned.
            OpenAIModelClient client = string.IsNullOrEmpty(apiKey)
                ? new OpenAIModelClient(new NoAuthenticationPolicy(), options)
                : new OpenAIModelClient(new ApiKeyCredential(apiKey), options);
#pragma warning restore OPENAI001
            try
            {
                var request = new RequestOptions { CancellationToken = cancellationToken, ErrorOptions = ClientErrorBehaviors.NoThrow, BufferResponse = false };
                ClientResult result = await client.GetModelsAsync(request).ConfigureAwait(false);
                using PipelineResponse response = result.GetRawResponse();
                Stream content = response.ContentStream ?? Stream.Null;
                if (response.Status < 200 || response.Status >= 300)
                {
                    byte[] error = await BoundedRead.ReadPrefixAsync(content, 65536, cancellationToken).ConfigureAwait(false);
                    string text = ServerError.Describe(ServerError.ReadMessage(error), apiKey);
                    throw ServerFailure.FromAnswer(response.Status, ServerError.Redact(response.ReasonPhrase, apiKey), text, EndpointUrl.Display(baseUrl) + "/models");
                }

                byte[] body = await BoundedRead.ReadAsync(content, MaxListBytes, cancellationToken).ConfigureAwait(false)
                    ?? throw new CaptionException("AnswerTooLarge", CaptionErrorCategory.LimitsExceeded, $"{EndpointUrl.Display(baseUrl)}/models sent a model list of more than {MaxListBytes / 1048576} MiB; reading stopped there.");
                return Parse(body, EndpointUrl.Display(baseUrl));
            }
            catch (Exception e) when (e is not CaptionException && !cancellationToken.IsCancellationRequested && ServerFailure.FromTransport(e, EndpointUrl.Display(baseUrl), timeout) is CaptionException failure)
            {
                throw failure;
            }
        }

        /// <summary>The largest model list read: some hundred thousand names, far more than any server lists.</summary>
        public const int MaxListBytes = 16 * 1024 * 1024;

        internal static IReadOnlyList<VlmModel> Parse(ReadOnlyMemory<byte> body, string baseUrl)
        {
            var models = new List<VlmModel>();
            try
            {
                using JsonDocument document = JsonDocument.Parse(body);
                JsonElement root = document.RootElement;
                JsonElement data = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out JsonElement d) ? d : root;
                if (data.ValueKind == JsonValueKind.Null)
                {
                    // Ollama with nothing pulled: {"object":"list","data":null} (middleware/openai_test.go).
                    return models;
                }

                if (data.ValueKind != JsonValueKind.Array)
                {
                    throw new FormatException("no 'data' list");
                }

                foreach (JsonElement item in data.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out JsonElement id) && id.ValueKind == JsonValueKind.String)
                    {
                        models.Add(new VlmModel
                        {
                            Id = id.GetString()!,
                            OwnedBy = item.TryGetProperty("owned_by", out JsonElement owner) && owner.ValueKind == JsonValueKind.String ? owner.GetString() : null,
                            Created = item.TryGetProperty("created", out JsonElement created) && created.ValueKind == JsonValueKind.Number && created.TryGetInt64(out long seconds) && seconds > 0
                                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                                : (DateTimeOffset?)null,
                            BaseUrl = baseUrl,
                            Status = item.TryGetProperty("status", out JsonElement status)
                                ? (status.ValueKind == JsonValueKind.Object && status.TryGetProperty("value", out JsonElement value) ? value.ToString() : status.ToString())
                                : null,
                        });
                    }
                }
            }
            catch (Exception e) when (e is JsonException || e is FormatException)
            {
                throw new CaptionException("RequestFailed", CaptionErrorCategory.ProtocolError, $"{baseUrl}/models did not answer with a model list ({e.Message}). Check that the URL is the API root, usually ending in /v1.", e);
            }

            return models;
        }
    }
}
