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
    /// <summary>
    /// Captions one image at a time on any thread: prepares it once, runs the conversation with each model, checks
    /// the captions.
    /// </summary>
    public sealed class CaptionEngine
    {
        private readonly string? globalMetadata;
        private readonly ImagePreparer preparer;
        private readonly List<ModelEndpoints> models;
        private long tokensReceived;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> notesGiven = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>();

        /// <summary>Creates an engine; throws <see cref="ArgumentException"/> when the settings are invalid.</summary>
        /// <param name="settings">What to send, and where.</param>
        /// <param name="imageOptions">How to prepare images.</param>
        /// <param name="globalMetadata">Text placed before the system prompt, if any.</param>
        /// <param name="limitPerEndpoint">Images in flight on one endpoint at most.</param>
        public CaptionEngine(CaptionSettings settings, ImagePreparationOptions imageOptions, string? globalMetadata = null, int limitPerEndpoint = int.MaxValue)
            : this(new[] { settings }, imageOptions, globalMetadata, limitPerEndpoint)
        {
        }

        /// <summary>
        /// Creates an engine that captions each image with every model of <paramref name="perModel"/> (one settings
        /// each, in order), the image prepared once for all of them.
        /// </summary>
        public CaptionEngine(IReadOnlyList<CaptionSettings> perModel, ImagePreparationOptions imageOptions, string? globalMetadata = null, int limitPerEndpoint = int.MaxValue)
        {
            if (perModel.Count == 0)
            {
                throw new ArgumentException("An engine needs the settings of at least one model.", nameof(perModel));
            }

            this.globalMetadata = globalMetadata;
            preparer = new ImagePreparer(imageOptions);
            models = perModel.Select(settings => new ModelEndpoints(settings, limitPerEndpoint, text => Notice?.Invoke(text), count => Interlocked.Add(ref tokensReceived, count))).ToList();
        }

        /// <summary>Raised from worker threads with what the run should hear once, such as a field an endpoint refused.</summary>
        public event Action<string>? Notice;

        /// <summary>Streamed chunks of text received so far by every image, for the progress bar.</summary>
        public long TokensReceived => Interlocked.Read(ref tokensReceived);

        /// <summary>The first backoff step between retries.</summary>
        public TimeSpan RetryBaseDelay
        {
            get => models[0].Endpoints[0].RetryBaseDelay;
            set => models.ForEach(m => m.Endpoints.ForEach(e => e.RetryBaseDelay = value));
        }

        /// <summary>How long servers that are loading their model are waited for.</summary>
        public TimeSpan LoadingWait
        {
            get => models[0].Endpoints[0].LoadingWait;
            set => models.ForEach(m => m.Endpoints.ForEach(e => e.LoadingWait = value));
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
        /// The second stage: for each model the job asks (all, by default), <see cref="CaptionSettings.CaptionsPerImage"/>
        /// independent conversations about a prepared image, one after another for a model and the models at once, so
        /// models on servers of their own (two GPUs, a local model and a cloud API) are each as busy as one alone would
        /// be. Any that fails fails the image, and stops the others, so an image never ends with part of its captions.
        /// Results come in the models' order; the first result's Seconds include the <paramref name="preparation"/> time.
        /// </summary>
        internal async Task<(IReadOnlyList<CaptionResult> Results, IReadOnlyList<string> History)> ConverseAllAsync(CaptionJob job, PreparedImage image, TimeSpan preparation, Action<string>? log, CancellationToken cancellationToken)
        {
            List<ModelEndpoints> asked = models.Where(m => job.Models is null || job.Models.Contains(m.Settings.Model, StringComparer.OrdinalIgnoreCase)).ToList();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            List<Task<(List<CaptionResult> Results, IReadOnlyList<string> History)>> running = asked.Select(model => AskModelAsync(model, job, image, log, stop)).ToList();
            try
            {
                await Task.WhenAll(running).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // The failure that stopped the others, not the cancellations it caused.
                Exception failure = running.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException)
                    ?? new OperationCanceledException(cancellationToken);
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }

            List<CaptionResult> results = running.SelectMany(t => t.Result.Results).ToList();
            for (int i = 0; i < results.Count; i++)
            {
                results[i].Seconds = Math.Round(results[i].Seconds + (i == 0 ? preparation.TotalSeconds : 0), 3);
            }

            return (results, running.Count > 0 ? running[running.Count - 1].Result.History : Array.Empty<string>());
        }

        /// <summary>One model's captions of an image, each with the time its own conversation took, and its last history.</summary>
        private async Task<(List<CaptionResult> Results, IReadOnlyList<string> History)> AskModelAsync(ModelEndpoints model, CaptionJob job, PreparedImage image, Action<string>? log, CancellationTokenSource stop)
        {
            CaptionSettings settings = model.Settings;
            int count = settings.CaptionsPerImage;
            // The models' lines interleave: each says whose it is.
            Action<string>? said = log is null || models.Count == 1 ? log : text => log($"{settings.Model}: {text}");
            var results = new List<CaptionResult>();
            IReadOnlyList<string> history = Array.Empty<string>();
            try
            {
                for (int index = 1; index <= count; index++)
                {
                    if (count > 1)
                    {
                        said?.Invoke($"Caption {index} of {count}.");
                    }

                    var clock = Stopwatch.StartNew();
                    (ConversationOutcome outcome, ChatEndpoint endpoint) = await ConverseAsync(model, job, image, said, stop.Token).ConfigureAwait(false);
                    // With several models a result names the model as the user did, as its caption file does.
                    results.Add(CaptionResults.From(job.Path, outcome.CaptionTurn, outcome.Turns, models.Count > 1 ? settings.Model : endpoint.Quirks.Model, endpoint.ShownUrl, image, clock.Elapsed.TotalSeconds, index, count, settings));
                    history = outcome.History;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                // This model failed the image: the others need not go on.
                stop.Cancel();
                throw;
            }

            return (results, history);
        }

        /// <summary>Runs the conversation on the least busy endpoint; when that endpoint fails, on the next one not yet tried.</summary>
        private async Task<(ConversationOutcome, ChatEndpoint)> ConverseAsync(ModelEndpoints model, CaptionJob job, PreparedImage image, Action<string>? log, CancellationToken cancellationToken)
        {
            (CaptionSettings settings, List<ChatEndpoint> endpoints, EndpointPool pool) = (model.Settings, model.Endpoints, model.Pool);
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

        /// <summary>A model's settings, its endpoints (one per base URL, each learning its own quirks) and their pool.</summary>
        private sealed class ModelEndpoints
        {
            public ModelEndpoints(CaptionSettings settings, int limitPerEndpoint, Action<string> notice, Action<int> tokens)
            {
                settings.Validate();
                Settings = settings;
                Endpoints = settings.BaseUrls.Select(url => new ChatEndpoint(
                    settings,
                    url,
                    settings.ModelByEndpoint.TryGetValue(url, out string? model) ? model : null,
                    settings.ModelListedByEndpoint.TryGetValue(url, out bool listed) ? listed : null)
                {
                    Notice = notice,
                    OnTokens = tokens,
                }).ToList();
                Pool = new EndpointPool(Endpoints, limitPerEndpoint);
            }

            public CaptionSettings Settings { get; }

            public List<ChatEndpoint> Endpoints { get; }

            public EndpointPool Pool { get; }
        }
    }
}
