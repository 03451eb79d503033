using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using VlmCaption.Conversation;
using VlmCaption.Images;
using VlmCaption.Transport;

namespace VlmCaption
{
    /// <summary>Captions one image at a time on any thread: prepares it once, runs the conversation, checks the caption.</summary>
    public sealed class CaptionEngine
    {
        private readonly CaptionSettings settings;
        private readonly string? globalMetadata;
        private readonly ImagePreparer preparer;
        private readonly List<ChatEndpoint> endpoints;
        private readonly EndpointPool pool;
        private long tokensReceived;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> notesGiven = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>();

        /// <summary>Creates an engine; throws <see cref="ArgumentException"/> when the settings are invalid.</summary>
        /// <param name="settings">What to send, and where.</param>
        /// <param name="imageOptions">How to prepare images.</param>
        /// <param name="globalMetadata">Text placed before the system prompt, if any.</param>
        /// <param name="limitPerEndpoint">Images in flight on one endpoint at most.</param>
        public CaptionEngine(CaptionSettings settings, ImagePreparationOptions imageOptions, string? globalMetadata = null, int limitPerEndpoint = int.MaxValue)
        {
            settings.Validate();
            this.settings = settings;
            this.globalMetadata = globalMetadata;
            preparer = new ImagePreparer(imageOptions);
            endpoints = settings.BaseUrls.Select(url => new ChatEndpoint(
                settings,
                url,
                settings.ModelByEndpoint.TryGetValue(url, out string? model) ? model : null,
                settings.ModelListedByEndpoint.TryGetValue(url, out bool listed) ? listed : null)
            {
                Notice = text => Notice?.Invoke(text),
                OnTokens = count => Interlocked.Add(ref tokensReceived, count),
            }).ToList();
            pool = new EndpointPool(endpoints, limitPerEndpoint);
        }

        /// <summary>Raised from worker threads with what the run should hear once, such as a field an endpoint refused.</summary>
        public event Action<string>? Notice;

        /// <summary>Streamed chunks of text received so far by every image, for the progress bar.</summary>
        public long TokensReceived => Interlocked.Read(ref tokensReceived);

        /// <summary>The first backoff step between retries.</summary>
        public TimeSpan RetryBaseDelay
        {
            get => endpoints[0].RetryBaseDelay;
            set => endpoints.ForEach(e => e.RetryBaseDelay = value);
        }

        /// <summary>How long servers that are loading their model are waited for.</summary>
        public TimeSpan LoadingWait
        {
            get => endpoints[0].LoadingWait;
            set => endpoints.ForEach(e => e.LoadingWait = value);
        }

        /// <summary>Captions one image (its first caption); throws <see cref="CaptionException"/> when it cannot be captioned.</summary>
        /// <param name="job">The image and its hints.</param>
        /// <param name="log">Receives progress lines (turns, retries) for -Verbose; called from a worker thread.</param>
        /// <param name="cancellationToken">Cancels the requests in flight.</param>
        public async Task<CaptionResult> CaptionAsync(CaptionJob job, Action<string>? log, CancellationToken cancellationToken) =>
            (await RunAsync(job, log, cancellationToken).ConfigureAwait(false)).Results[0];

        /// <summary>Captions one image with <see cref="CaptionSettings.CaptionsPerImage"/> conversations, and keeps the last chat history when the settings ask for it.</summary>
        internal async Task<(IReadOnlyList<CaptionResult> Results, IReadOnlyList<string> History)> RunAsync(CaptionJob job, Action<string>? log, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            PreparedImage image = await PrepareAsync(job, log, cancellationToken).ConfigureAwait(false);
            return await ConverseAllAsync(job, image, clock.Elapsed, log, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The first stage: reads and prepares the image (CPU-bound, at most one decode per core).</summary>
        internal async Task<PreparedImage> PrepareAsync(CaptionJob job, Action<string>? log, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            PreparedImage image = await preparer.PrepareAsync(job.Path, cancellationToken).ConfigureAwait(false);
            log?.Invoke($"Prepared {image.Width}x{image.Height} {image.MediaType}, {image.ByteCount / 1024.0:0.0} KiB in {clock.Elapsed.TotalMilliseconds:0} ms.");
            if (image.Note is string note && notesGiven.TryAdd(note.StartsWith("'", StringComparison.Ordinal) ? note : image.MediaType, 0))
            {
                // Said once per format for a whole run; once per image for what happened to that image.
                Notice?.Invoke(note);
            }

            return image;
        }

        /// <summary>
        /// The second stage: <see cref="CaptionSettings.CaptionsPerImage"/> independent conversations about a prepared
        /// image, one after another (I/O-bound, on the endpoints). Any that fails fails the image, so an image never
        /// ends with part of its captions. The first result's Seconds include the <paramref name="preparation"/> time.
        /// </summary>
        internal async Task<(IReadOnlyList<CaptionResult> Results, IReadOnlyList<string> History)> ConverseAllAsync(CaptionJob job, PreparedImage image, TimeSpan preparation, Action<string>? log, CancellationToken cancellationToken)
        {
            var clock = Stopwatch.StartNew();
            int count = settings.CaptionsPerImage;
            var results = new List<CaptionResult>(count);
            IReadOnlyList<string> history = Array.Empty<string>();
            for (int index = 1; index <= count; index++)
            {
                if (count > 1)
                {
                    log?.Invoke($"Caption {index} of {count}.");
                }

                (ConversationOutcome outcome, ChatEndpoint endpoint) = await ConverseAsync(job, image, log, cancellationToken).ConfigureAwait(false);
                TimeSpan seconds = clock.Elapsed + (index == 1 ? preparation : TimeSpan.Zero);
                results.Add(CaptionResults.From(job.Path, outcome.CaptionTurn, outcome.Turns, endpoint.Quirks.Model, endpoint.ShownUrl, image, Math.Round(seconds.TotalSeconds, 3), index, count, settings));
                history = outcome.History;
                clock.Restart();
            }

            return (results, history);
        }

        /// <summary>Runs the conversation on the least busy endpoint; when that endpoint fails, on the next one not yet tried.</summary>
        private async Task<(ConversationOutcome, ChatEndpoint)> ConverseAsync(CaptionJob job, PreparedImage image, Action<string>? log, CancellationToken cancellationToken)
        {
            var tried = new List<ChatEndpoint>();
            while (true)
            {
                ChatEndpoint endpoint = (await pool.AcquireAsync(tried, cancellationToken).ConfigureAwait(false))!;
                tried.Add(endpoint);
                bool endpointFailed = false;
                try
                {
                    ConversationOutcome outcome = await ImageConversation.RunAsync(endpoint, settings, globalMetadata, job, image, log, cancellationToken).ConfigureAwait(false);
                    return (outcome, endpoint);
                }
                catch (CaptionException e) when (e.IsEndpointFailure)
                {
                    endpointFailed = true;
                    if (tried.Count == endpoints.Count)
                    {
                        throw;
                    }

                    log?.Invoke($"{endpoint.ShownUrl} failed ({e.Message}); trying another endpoint.");
                }
                finally
                {
                    pool.Release(endpoint, endpointFailed);
                }
            }
        }
    }
}
