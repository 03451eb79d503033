using System;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Generic;
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
        public static async Task<IReadOnlyList<VlmModel>> ListAsync(string baseUrl, string apiKey, TimeSpan timeout, CancellationToken cancellationToken)
        {
            OpenAIClientOptions options = ChatEndpoint.ClientOptions(baseUrl, timeout);
#pragma warning disable OPENAI001 // The AuthenticationPolicy constructor is marked experimental; the SDK version is pinned.
            OpenAIModelClient client = string.IsNullOrEmpty(apiKey)
                ? new OpenAIModelClient(new NoAuthenticationPolicy(), options)
                : new OpenAIModelClient(new ApiKeyCredential(apiKey), options);
#pragma warning restore OPENAI001
            PipelineResponse response;
            try
            {
                ClientResult result = await client.GetModelsAsync(new RequestOptions { CancellationToken = cancellationToken, ErrorOptions = ClientErrorBehaviors.NoThrow }).ConfigureAwait(false);
                response = result.GetRawResponse();
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && ServerFailure.FromTransport(e, baseUrl, timeout) is CaptionException failure)
            {
                throw failure;
            }

            if (response.Status < 200 || response.Status >= 300)
            {
                string text = ServerError.Redact(ServerError.ReadMessage(response.Content.ToMemory()), apiKey);
                throw ServerFailure.FromAnswer(response.Status, response.ReasonPhrase, text, baseUrl + "/models");
            }

            return Parse(response.Content.ToMemory(), baseUrl);
        }

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
