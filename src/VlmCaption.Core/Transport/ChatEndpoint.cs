using System;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using OpenAI;
using OpenAI.Chat;

namespace VlmCaption.Transport
{
    /// <summary>
    /// One OpenAI-compatible endpoint reached through the OpenAI SDK's pipeline. The body is written by
    /// <see cref="ChatRequestWriter"/> so the wire carries exactly the original tool's layout. Retries are done
    /// here rather than by the SDK so they honour Retry-After and report each attempt; a refusal that names a
    /// field this client can change (the answer limit's field, temperature, a limit past the model's context) is
    /// answered by changing it for the rest of the run and sending again at once.
    /// </summary>
    internal sealed class ChatEndpoint
    {
        // Changes of the request one answer may call for before giving up: field, temperature, limit, and a spare.
        private const int MaxAdjustments = 4;

        // An error text longer than this is cut; what servers say fits in far less.
        private const int MaxErrorBytes = 65536;

        private readonly ChatClient client;
        private readonly CaptionSettings settings;
        private readonly object loadingGate = new object();

        // Set from the start for a server known to close connections it says it keeps (llama-server after a streamed
        // answer, PreflightResult.ClosesAfterStream), or once one is seen doing so (see CompleteAsync).
        private volatile bool closesConnections;

        // Immediate resends of one request whose connection the server had closed: one per stale pooled
        // connection at most, and there are no more of those than requests in flight.
        private const int MaxResends = 8;
        private DateTime? loadingUntil;

        /// <param name="settings">What to send.</param>
        /// <param name="baseUrl">The endpoint.</param>
        /// <param name="model">The name this endpoint is sent; by default the settings' model.</param>
        /// <param name="modelListed">True when its model list named the model, false when no list could be read, null when unchecked.</param>
        public ChatEndpoint(CaptionSettings settings, string baseUrl, string? model = null, bool? modelListed = null)
        {
            this.settings = settings;
            BaseUrl = baseUrl;
            ModelListed = modelListed;
            Quirks = new EndpointQuirks(settings, model ?? settings.Model);
            closesConnections = settings.Stream && settings.ClosesAfterStream.Contains(baseUrl) && IsPlainHttp(baseUrl);
            OpenAIClientOptions options = ClientOptions(baseUrl, settings.Timeout, settings.Proxy);
#pragma warning disable OPENAI001 // The AuthenticationPolicy constructor is marked experimental; the SDK version is pinned.
            client = string.IsNullOrEmpty(settings.ApiKey)
                ? new ChatClient(Quirks.Model, new NoAuthenticationPolicy(), options)
                : new ChatClient(Quirks.Model, new ApiKeyCredential(settings.ApiKey), options);
#pragma warning restore OPENAI001
        }

        /// <summary>The endpoint's base URL.</summary>
        public string BaseUrl { get; }

        /// <summary>The base URL as messages and results show it, credentials in it replaced (<see cref="EndpointUrl.Display"/>).</summary>
        public string ShownUrl => EndpointUrl.Display(BaseUrl);

        /// <summary>What this endpoint was found to need.</summary>
        public EndpointQuirks Quirks { get; }

        /// <summary>See the constructor.</summary>
        public bool? ModelListed { get; }

        /// <summary>The first backoff step; tests shorten it.</summary>
        public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

        /// <summary>How long a server that answers "Loading model" is waited for, in all; tests shorten it.</summary>
        public TimeSpan LoadingWait { get; set; } = TimeSpan.FromMinutes(10);

        /// <summary>Receives what the run should hear once (a changed field, a lowered limit): a warning, not a verbose line.</summary>
        public Action<string>? Notice { get; set; }

        /// <param name="messages">The whole history.</param>
        /// <param name="log">Receives a line for each retry, for -Verbose.</param>
        /// <param name="cancellationToken">Cancels the request and any wait before a retry.</param>
        /// <param name="asksSchema">The turn answers with the settings' JSON schema: response_format goes with it.</param>
        public async Task<ChatAnswer> CompleteAsync(IReadOnlyList<ChatMessage> messages, Action<string>? log, CancellationToken cancellationToken, bool asksSchema = false)
        {
            EndpointQuirks? built = null;
            BinaryData body = null!;
            int adjustments = 0;
            int resent = 0;
            for (int attempt = 0; ;)
            {
                EndpointQuirks sent = Quirks.Snapshot();
                if (built is null || !sent.SameRequestAs(built))
                {
                    body = new BinaryData(ChatRequestWriter.Write(settings, sent, messages, asksSchema));
                    built = sent;
                }

                Attempt outcome = await SendAsync(body, cancellationToken).ConfigureAwait(false);
                if (outcome.Answer is ChatAnswer answer)
                {
                    return answer;
                }

                if (outcome.ClosedBeforeAnswer && resent < MaxResends)
                {
                    // The server closed a kept-alive connection as the request went out on it (llama-server closes
                    // every connection after a streamed answer, though its headers say Keep-Alive): nothing was
                    // answered, so it is sent again at once, and is no retry. From now on requests ask for the
                    // connection to be closed after their answer, so no connection the server is closing goes
                    // back to the pool; the few already there are met at most once each.
                    resent++;
                    closesConnections = IsPlainHttp(BaseUrl);
                    log?.Invoke($"{ShownUrl} closed the connection before answering; sent again at once.");
                    continue;
                }

                if (outcome.Failure is null)
                {
                    // The server refused: change what it refused and send again at once, or wait while it loads.
                    RefusalVerdict verdict = RefusalVerdict.Read(outcome.Status, outcome.Reason, outcome.ServerText, sent, ShownUrl, ModelListed);
                    if (adjustments < MaxAdjustments && verdict.Change is RequestAdjustment.Change change && Adjust(change, outcome.ServerText, sent))
                    {
                        adjustments++;
                        continue;
                    }

                    if (ServerFailure.IsLoading(outcome.Status, outcome.ServerText) && await WaitWhileLoadingAsync(outcome.RetryAfter, log, cancellationToken).ConfigureAwait(false))
                    {
                        continue;
                    }

                    // A change that was already made, or one too many, is no reason to send the same again.
                    outcome.Failure = verdict.Failure;
                    outcome.Transient = verdict.Change is null && verdict.Transient;
                }

                if (!outcome.Transient || attempt >= settings.MaxRetries)
                {
                    throw outcome.Failure;
                }

                TimeSpan delay = RetryDelay.Next(attempt, RetryBaseDelay, outcome.RetryAfter);
                attempt++;
                resent = 0;
                log?.Invoke($"{outcome.Failure.Message} Retry {attempt} of {settings.MaxRetries} in {delay.TotalSeconds:0.0} s.");
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Sends one request and reads what comes back: an answer, a refusal (status and the server's text, key
        /// redacted) for the caller to act on, or a failure of the transport, the stream or the whole-request cap.
        /// </summary>
        private async Task<Attempt> SendAsync(BinaryData body, CancellationToken cancellationToken)
        {
            // The network timeout bounds each silence (the response is read unbuffered); this bounds the whole request.
            using var whole = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            whole.CancelAfter(settings.MaxRequestTime);
            bool headersCame = false;
            try
            {
                var options = new RequestOptions { CancellationToken = whole.Token, ErrorOptions = ClientErrorBehaviors.NoThrow, BufferResponse = false };
                if (closesConnections)
                {
                    options.SetHeader("Connection", "close");
                }

                ClientResult result = await client.CompleteChatAsync(BinaryContent.Create(body), options).ConfigureAwait(false);
                headersCame = true;
                using PipelineResponse response = result.GetRawResponse();
                string reason = ServerError.Redact(response.ReasonPhrase, settings.ApiKey);
                if (response.Status < 200 || response.Status >= 300)
                {
                    byte[] errorBody = response.ContentStream is Stream errorStream ? await BoundedRead.ReadPrefixAsync(errorStream, MaxErrorBytes, whole.Token).ConfigureAwait(false) : Array.Empty<byte>();
                    response.Headers.TryGetValue("retry-after-ms", out string? retryAfterMs);
                    response.Headers.TryGetValue("Retry-After", out string? retryAfterText);
                    return new Attempt
                    {
                        Status = response.Status,
                        Reason = reason,
                        ServerText = ServerError.Describe(ServerError.ReadMessage(errorBody), settings.ApiKey),
                        RetryAfter = RetryDelay.Parse(retryAfterMs, retryAfterText, DateTimeOffset.UtcNow),
                    };
                }

                try
                {
                    return new Attempt { Answer = await ReadAnswerAsync(response, whole.Token).ConfigureAwait(false) };
                }
                catch (ServerErrorAnswer e)
                {
                    return new Attempt { Status = 200, Reason = reason, ServerText = ServerError.Describe(e.Message, settings.ApiKey) };
                }
                catch (FormatException e)
                {
                    var failure = new CaptionException("RequestFailed", CaptionErrorCategory.ProtocolError, $"{ShownUrl} answered with HTTP {response.Status} but {e.Message}", e);
                    return new Attempt { Failure = failure, Transient = true };
                }
                catch (CaptionException e)
                {
                    // A stream cut short is worth another try; an answer past the size limit is not.
                    return new Attempt { Failure = e, Transient = e.ErrorId == "ConnectionFailed" };
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && whole.IsCancellationRequested)
            {
                var failure = new CaptionException("RequestTimedOut", CaptionErrorCategory.OperationTimeout, $"{ShownUrl} took longer than {settings.MaxRequestTime.TotalSeconds:0} s for one answer (-MaxRequestSec), though it kept sending. Raise -MaxRequestSec, or lower -MaxTokens for a model that does not stop.", e);
                return new Attempt { Failure = failure };
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && ServerFailure.FromTransport(e, ShownUrl, settings.Timeout) is CaptionException transportFailure)
            {
                return new Attempt { Failure = transportFailure, Transient = true, ClosedBeforeAnswer = !headersCame && EndedBeforeAnswer(e) };
            }
        }

        /// <summary>
        /// True when the request failed because its connection ended before any byte of an answer: .NET's
        /// HttpRequestError.ResponseEnded ("The response ended prematurely"), or a reset as the request was sent.
        /// HttpRequestError exists from .NET 8 on (PowerShell 7.4+); without it only the reset is known.
        /// </summary>
        private static bool EndedBeforeAnswer(Exception e)
        {
            for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            {
                if (inner is System.Net.Http.HttpRequestException && inner.GetType().GetProperty("HttpRequestError")?.GetValue(inner)?.ToString() == "ResponseEnded")
                {
                    return true;
                }

                if (inner is System.Net.Sockets.SocketException socket && socket.SocketErrorCode is System.Net.Sockets.SocketError.ConnectionReset or System.Net.Sockets.SocketError.ConnectionAborted)
                {
                    return true;
                }
            }

            return false;
        }

        // A fresh connection for each request only without TLS: a local server's costs a handshake of microseconds,
        // an API's a TLS handshake each time, and those close a kept connection only now and then.
        private static bool IsPlainHttp(string baseUrl) => baseUrl.StartsWith("http:", StringComparison.OrdinalIgnoreCase);

        /// <summary>Changes the endpoint's requests as a refusal asks; true when the next request differs.</summary>
        private bool Adjust(RequestAdjustment.Change change, string serverText, EndpointQuirks sent)
        {
            if (Quirks.Apply(change))
            {
                Notice?.Invoke(RefusalVerdict.Changed(ShownUrl, serverText, change));
            }

            return !Quirks.Snapshot().SameRequestAs(sent);
        }

        /// <summary>Told of each streamed chunk that carried text, for the progress bar; called from worker threads.</summary>
        public Action<int>? OnTokens { get; set; }

        /// <summary>
        /// A success: Server-Sent Events when the server streams, else one JSON body (servers that ignore
        /// stream: true); either way never more than the answer limit is read.
        /// </summary>
        private async Task<ChatAnswer> ReadAnswerAsync(PipelineResponse response, CancellationToken cancellationToken)
        {
            Stream content = response.ContentStream ?? Stream.Null;
            response.Headers.TryGetValue("Content-Type", out string? contentType);
            if (contentType is not null && contentType.IndexOf("event-stream", StringComparison.OrdinalIgnoreCase) >= 0)
            {
                return await StreamedAnswer.ReadAsync(content, ShownUrl, settings.MaxAnswerBytes, OnTokens, cancellationToken).ConfigureAwait(false);
            }

            // The answer text plus room for the JSON around it.
            byte[] body = await BoundedRead.ReadAsync(content, settings.MaxAnswerBytes + (1 << 20), cancellationToken).ConfigureAwait(false)
                ?? throw StreamedAnswer.TooLarge(ShownUrl, settings.MaxAnswerBytes);
            return ChatAnswer.Parse(body);
        }

        /// <summary>SDK options for an endpoint: no SDK retries (ours honour Retry-After), our timeout.</summary>
        internal static OpenAIClientOptions ClientOptions(string baseUrl, TimeSpan timeout, ProxySettings? proxy)
        {
            var options = new OpenAIClientOptions
            {
                Endpoint = EndpointUrl.Parse(baseUrl),
                RetryPolicy = new ClientRetryPolicy(0),
                NetworkTimeout = timeout,
                UserAgentApplicationId = "VlmCaption",
            };
            if (proxy is not null)
            {
                options.Transport = proxy.Transport();
            }

            return options;
        }

        /// <summary>What one request came to: an answer, a refusal (no failure yet: the caller decides), or a failure.</summary>
        private sealed class Attempt
        {
            public ChatAnswer? Answer { get; set; }

            public int Status { get; set; }

            public string Reason { get; set; } = "";

            public string ServerText { get; set; } = "";

            public TimeSpan? RetryAfter { get; set; }

            public CaptionException? Failure { get; set; }

            public bool Transient { get; set; }

            /// <summary>The connection ended before any byte of an answer came back.</summary>
            public bool ClosedBeforeAnswer { get; set; }
        }

        /// <summary>Waits out a server that is loading its model, within one budget for the whole run; false once it is spent.</summary>
        private async Task<bool> WaitWhileLoadingAsync(TimeSpan? retryAfter, Action<string>? log, CancellationToken cancellationToken)
        {
            DateTime until;
            lock (loadingGate)
            {
                loadingUntil ??= DateTime.UtcNow + LoadingWait;
                until = loadingUntil.Value;
            }

            TimeSpan left = until - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            TimeSpan wait = retryAfter ?? RetryBaseDelay;
            wait = wait < left ? wait : left;
            log?.Invoke($"{ShownUrl} is loading its model; asking again in {wait.TotalSeconds:0.0} s.");
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            return true;
        }
    }
}
