using System;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using OpenAI;
using OpenAI.Chat;

namespace VlmCaption.Transport
{
    /// <summary>
    /// One OpenAI-compatible endpoint reached through the OpenAI SDK's pipeline. The body is written by
    /// <see cref="ChatRequestWriter"/> so the wire carries exactly the original tool's layout and max_tokens.
    /// Retries are done here rather than by the SDK so they honour Retry-After and report each attempt.
    /// </summary>
    internal sealed class ChatEndpoint
    {
        private readonly ChatClient client;
        private readonly CaptionSettings settings;

        public ChatEndpoint(CaptionSettings settings, string baseUrl)
        {
            this.settings = settings;
            BaseUrl = baseUrl;
            OpenAIClientOptions options = ClientOptions(baseUrl, settings.Timeout);
#pragma warning disable OPENAI001 // The AuthenticationPolicy constructor is marked experimental; the SDK version is pinned.
            client = string.IsNullOrEmpty(settings.ApiKey)
                ? new ChatClient(settings.Model, new NoAuthenticationPolicy(), options)
                : new ChatClient(settings.Model, new ApiKeyCredential(settings.ApiKey), options);
#pragma warning restore OPENAI001
        }

        /// <summary>The endpoint's base URL.</summary>
        public string BaseUrl { get; }

        /// <summary>The first backoff step; tests shorten it.</summary>
        public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

        /// <param name="messages">The whole history.</param>
        /// <param name="log">Receives a line for each retry, for -Verbose.</param>
        /// <param name="cancellationToken">Cancels the request and any wait before a retry.</param>
        public async Task<ChatAnswer> CompleteAsync(IReadOnlyList<ChatMessage> messages, Action<string>? log, CancellationToken cancellationToken)
        {
            BinaryData body = new BinaryData(ChatRequestWriter.Write(settings, messages));
            for (int attempt = 0; ; attempt++)
            {
                CaptionException failure;
                TimeSpan? retryAfter = null;
                bool transient;
                try
                {
                    var options = new RequestOptions { CancellationToken = cancellationToken, ErrorOptions = ClientErrorBehaviors.NoThrow };
                    ClientResult result = await client.CompleteChatAsync(BinaryContent.Create(body), options).ConfigureAwait(false);
                    PipelineResponse response = result.GetRawResponse();
                    if (response.Status >= 200 && response.Status < 300)
                    {
                        try
                        {
                            return ChatAnswer.Parse(response.Content.ToMemory());
                        }
                        catch (FormatException e)
                        {
                            failure = new CaptionException("RequestFailed", CaptionErrorCategory.ProtocolError, $"{BaseUrl} answered with HTTP {response.Status} but {e.Message}", e);
                            transient = true;
                        }
                    }
                    else
                    {
                        failure = FromStatus(response, BaseUrl, settings.ApiKey);
                        transient = RetryDelay.IsTransientStatus(response.Status);
                        response.Headers.TryGetValue("retry-after-ms", out string? retryAfterMs);
                        response.Headers.TryGetValue("Retry-After", out string? retryAfterText);
                        retryAfter = RetryDelay.Parse(retryAfterMs, retryAfterText, DateTimeOffset.UtcNow);
                    }
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && ToTransportFailure(e, BaseUrl, settings.Timeout) is CaptionException transportFailure)
                {
                    failure = transportFailure;
                    transient = true;
                }

                if (!transient || attempt >= settings.MaxRetries)
                {
                    throw failure;
                }

                TimeSpan delay = RetryDelay.Next(attempt, RetryBaseDelay, retryAfter);
                log?.Invoke($"{failure.Message} Retry {attempt + 1} of {settings.MaxRetries} in {delay.TotalSeconds:0.0} s.");
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>SDK options for an endpoint: no SDK retries (ours honour Retry-After), our timeout.</summary>
        internal static OpenAIClientOptions ClientOptions(string baseUrl, TimeSpan timeout) => new OpenAIClientOptions
        {
            Endpoint = EndpointUrl.Parse(baseUrl),
            RetryPolicy = new ClientRetryPolicy(0),
            NetworkTimeout = timeout,
            UserAgentApplicationId = "VlmCaption",
        };

        /// <summary>A failing HTTP answer as an error that carries the status, the server's text (key redacted) and advice.</summary>
        internal static CaptionException FromStatus(PipelineResponse response, string baseUrl, string apiKey)
        {
            string serverText = ServerError.Redact(ServerError.ReadMessage(response.Content.ToMemory()), apiKey);
            string advice = response.Status switch
            {
                401 or 403 => " Check the API key.",
                404 => " Check that the URL ends in /v1 and that the model name is one the server lists.",
                _ => "",
            };
            CaptionErrorCategory category = response.Status switch
            {
                401 or 403 => CaptionErrorCategory.AuthenticationError,
                404 => CaptionErrorCategory.ObjectNotFound,
                408 => CaptionErrorCategory.OperationTimeout,
                429 or 503 => CaptionErrorCategory.ResourceUnavailable,
                _ => CaptionErrorCategory.ProtocolError,
            };
            string detail = serverText.Length > 0 ? $": {serverText}" : ".";
            return new CaptionException("RequestFailed", category, $"{baseUrl} answered HTTP {response.Status} {response.ReasonPhrase}{detail}{advice}")
            {
                StatusCode = response.Status,
            };
        }

        /// <summary>A timeout or a connection failure as an error with a diagnosis; null for anything else.</summary>
        internal static CaptionException? ToTransportFailure(Exception e, string baseUrl, TimeSpan timeout)
        {
            if (e is OperationCanceledException)
            {
                return new CaptionException("RequestTimedOut", CaptionErrorCategory.OperationTimeout, $"{baseUrl} did not answer within {timeout.TotalSeconds:0} s. Local models can be slow: raise -TimeoutSec.", e);
            }

            if (e is HttpRequestException || e is IOException || (e is ClientResultException c && c.Status == 0))
            {
                Exception innermost = e;
                while (innermost.InnerException is not null)
                {
                    innermost = innermost.InnerException;
                }

                string reason = innermost.Message.Trim().TrimEnd('.');
                string advice = EndpointUrl.IsLmStudioDefault(baseUrl)
                    ? " Is LM Studio's server started? It is off by default: start it in the Developer tab or with 'lms server start'."
                    : " Is the server started and listening there?";
                return new CaptionException("ConnectionFailed", CaptionErrorCategory.ConnectionError, $"Could not reach {baseUrl}: {reason}.{advice}", e);
            }

            return null;
        }
    }
}
