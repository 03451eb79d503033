using System.Threading;

namespace VlmCaption.PowerShell
{
    /// <summary>
    /// The pipeline-thread half of captioning, shared by Get-VlmCaption and Invoke-VlmCaptionRun: starts jobs while
    /// the batch has a free slot, and turns every event the workers post into output, errors and progress here,
    /// on the only thread allowed to write them. Ctrl+C cancels the requests in flight.
    /// </summary>
    /// <remarks>
    /// Where each stage lives. Parameters: declared once in this class's bases (EndpointCommandBase: key, proxy,
    /// timeout, cancellation; RequestCommandBase: the request's settings; here: endpoints, model, throttle, count,
    /// folders) and laid over caption.yaml by ConfigOverlay from the catalogue (ConfigOptions, ConfigValues).
    /// Core, without PowerShell: the folder run (Run/FolderRun: walk, shard, same-stem rule, skip, claims, tally;
    /// Run/FolderBatchRun for batch rounds), images (Images/ImagePreparer), the conversation (CaptionEngine,
    /// Conversation/ImageConversation), requests and what a refusal means (Transport/ChatEndpoint, RefusalVerdict),
    /// batch rounds (Batch/BatchRun plans, BatchSubmission talks to the provider, BatchAnswerReader reads answers),
    /// and caption files (Output/CaptionWriter, for runs, batch rounds and Save-VlmCaption alike).
    /// </remarks>
    public abstract class CaptionCommandBase : RequestCommandBase
    {
        private CaptionBatch? batch;
        private CircuitBreaker breaker = new CircuitBreaker(0);

        private CaptionProgress? progress;

        /// <summary>The progress bar.</summary>
        private protected CaptionProgress Progress => progress ??= new CaptionProgress(this);

        private TerminationSignal? termination;

        /// <summary>Overrides base_url: one or several endpoints serving the same model; default $env:VLMCAPTION_BASE_URL, else LM Studio's.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? BaseUrl { get; set; }

        /// <summary>Overrides model; without one, $env:VLMCAPTION_MODEL, else the only model the server lists. Several compare models: each image is captioned by each.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(ModelNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[]? Model { get; set; }

        /// <summary>Overrides concurrent_batch_size: images in flight at once on each endpoint.</summary>
        [Parameter]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; }

        /// <summary>Overrides captions_per_image: independent conversations per image.</summary>
        [Parameter]
        [ValidateRange(1, CaptionSettings.MaxCaptionsPerImage)]
        public int Count { get; set; }

        /// <summary>Overrides base_directory: the folder of images, and the tree -Destination mirrors.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? BaseDirectory { get; set; }

        /// <summary>Overrides output_directory: the folder that takes the captions, mirroring the folders under base_directory.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>Overrides refusal_check with false: every answer is taken as a caption, even one that opens as a refusal.</summary>
        [Parameter]
        public SwitchParameter NoRefusalCheck { get; set; }

        /// <summary>Overrides refusal_phrases: openings taken for a refusal besides the built-in ones.</summary>
        [Parameter]
        [ValidateNotNull]
        public string[]? RefusalPhrase { get; set; }

        /// <summary>Overrides json_schema: the JSON schema captions must match, as a .json file, JSON text, a hashtable or a class ([MyCaption]).</summary>
        [Parameter]
        [ValidateNotNull]
        public object? JsonSchema { get; set; }

        /// <summary>Overrides json_render: the template that makes a structured caption's text, such as '{subject}, {setting}'.</summary>
        [Parameter]
        [AllowEmptyString]
        public string? Render { get; set; }

        /// <summary>Overrides json_schema_turns: Last (the caption's turn answers with the schema) or All.</summary>
        [Parameter]
        [ValidateSet("Last", "All")]
        public string? JsonSchemaTurns { get; set; }

        /// <summary>Overrides clip_frames: frames taken from each video clip, spread evenly over it and sent in order.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ClipFrames { get; set; }

        /// <summary>Overrides clip_every_sec: a frame from the middle of every this many seconds of a clip, at most -ClipFrames.</summary>
        [Parameter]
        [ValidateRange(0.0, 3600.0)]
        public double ClipEverySec { get; set; }

        /// <summary>Overrides clip_as: Frames (a clip goes as its frames, for every vision server) or Video (as the clip itself, for servers that read video).</summary>
        [Parameter]
        [ValidateSet("Frames", "Video")]
        public string? ClipAs { get; set; }

        /// <summary>Overrides clip_max_sec: with -ClipAs Video, the most seconds of a clip sent, from its start.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int ClipMaxSec { get; set; }

        /// <summary>Overrides ffmpeg_path: the ffmpeg that takes frames out of clips (ffprobe beside it); default the first on PATH.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? FfmpegPath { get; set; }

        /// <summary>Overrides recursive: the images of subfolders too.</summary>
        [Parameter]
        public SwitchParameter Recurse { get; set; }

        /// <inheritdoc />
        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                termination?.Dispose();
                batch?.Dispose();
            }

            base.Dispose(disposing);
        }

        /// <summary>
        /// Checks every endpoint once before the first image and returns the model to use; an unreachable server or
        /// an unknown model throws one <see cref="CaptionException"/> instead of failing every image.
        /// </summary>
        private protected Transport.PreflightResult Preflight(CaptionConfig config)
        {
            var notes = new List<string>();
            var waiting = new System.Collections.Concurrent.ConcurrentQueue<string>();
            System.Threading.Tasks.Task<Transport.PreflightResult> check = Transport.Preflight.CheckAsync(
                config.BaseUrl,
                ApiKeyTransformationAttribute.Reveal(config.ApiKey),
                config.Model,
                TimeSpan.FromSeconds(Math.Min(config.TimeoutSec, 30)),
                notes,
                waiting.Enqueue,
                ConfigSettings.ProxyOf(config),
                Cancellation.Token);

            // The check runs on the thread pool; what it says while a server loads is written here, on the pipeline thread.
            while (!((IAsyncResult)check).AsyncWaitHandle.WaitOne(250))
            {
                while (waiting.TryDequeue(out string? line))
                {
                    WriteWarning(line);
                }
            }

            while (waiting.TryDequeue(out string? line))
            {
                WriteWarning(line);
            }

            Transport.PreflightResult checkedModel = check.GetAwaiter().GetResult();
            notes.ForEach(WriteWarning);
            if (config.Model.Length == 0)
            {
                WriteVerbose($"Using the model '{checkedModel.Model}', the only one {Transport.EndpointUrl.Display(config.BaseUrl[0])} lists.");
            }

            return checkedModel;
        }

        /// <summary>
        /// Checks every endpoint for each model the configuration compares (<see cref="CaptionConfig.Models"/>), or
        /// for its one model; the results in the models' order.
        /// </summary>
        private protected IReadOnlyList<(CaptionConfig Config, Transport.PreflightResult Checked)> PreflightEach(CaptionConfig config)
        {
            if (config.Models.Length < 2)
            {
                return new[] { (config, Preflight(config)) };
            }

            // Each model on its servers: the run's, or those its item of the model list names.
            return config.Models.Select(name => config.For(name)).Select(one => (one, Preflight(one))).ToList();
        }

        /// <summary>Starts a batch (a finished earlier one is let go, as when a fallback model follows): the throttle limit applies to each endpoint.</summary>
        private protected void StartBatch(CaptionConfig config, Transport.PreflightResult model, bool keepHistory, string? globalMetadata) =>
            StartBatch(config, new[] { (config, model) }, keepHistory, globalMetadata);

        /// <summary>Starts a batch that asks each checked model in turn about every image, which is prepared once for all of them.</summary>
        private protected void StartBatch(CaptionConfig config, IReadOnlyList<(CaptionConfig Config, Transport.PreflightResult Checked)> models, bool keepHistory, string? globalMetadata)
        {
            if (config.CaptionsPerImage > 1 && config.Temperature == 0)
            {
                WriteWarning($"{config.CaptionsPerImage} captions per image at temperature 0 are likely to be the same caption {config.CaptionsPerImage} times; leave the temperature unset or raise it.");
            }

            var engine = new CaptionEngine(
                models.Select(model => ConfigSettings.ToSettings(model.Config, model.Checked, keepHistory)).ToList(),
                ImagePreparationOptions.From(config),
                globalMetadata,
                limitPerEndpoint: config.ConcurrentBatchSize);
            batch?.Dispose();
            batch = new CaptionBatch(engine, config.ConcurrentBatchSize * config.BaseUrl.Length, Cancellation.Token);
            termination ??= new TerminationSignal();
            breaker = new CircuitBreaker(config.MaxConsecutiveFailures);
        }

        /// <summary>
        /// A folder run's live captioning: images are sent as they are met, so nothing but the walk's list grows with
        /// the folder, and the server is first asked when some image needs it; then what the first model refused or
        /// failed on goes to the fallback model, whose answers are final.
        /// </summary>
        private protected void CaptionLive(Run.FolderRun run, CaptionConfig config, IEnumerable<string> images, Func<string, CaptionJob> job, Transport.PreflightResult? checkedModel)
        {
            bool started = false;
            foreach (string image in images)
            {
                if (!started)
                {
                    IReadOnlyList<(CaptionConfig, Transport.PreflightResult)> checkedModels = checkedModel is not null && config.Models.Length < 2 ? new[] { (config, checkedModel) } : PreflightEach(config);
                    run.Model = checkedModels[0].Item2.Model;
                    StartBatch(config, checkedModels, keepHistory: config.ChatHistoryDir is not null, run.GlobalMetadata);
                    started = true;
                }

                Enqueue(job(image));
            }

            DrainAll();
            if (run.ForFallback.Count == 0 || config.Fallback is not CaptionConfig fallback)
            {
                return;
            }

            run.StartFallback();
            WriteVerbose($"{run.ForFallback.Count} images go to the fallback model '{fallback.Model}'.");
            try
            {
                Transport.PreflightResult second = Preflight(fallback);
                StartBatch(fallback, second, keepHistory: fallback.ChatHistoryDir is not null, run.GlobalMetadata);
            }
            catch (CaptionException e)
            {
                foreach ((string image, string why) in run.ForFallback)
                {
                    run.Failed(image, new CaptionException(e.ErrorId, e.Category, $"{why} The fallback model could not take it: {e.Message}", e));
                }

                return;
            }

            foreach ((string image, _) in run.ForFallback)
            {
                Enqueue(job(image));
            }

            DrainAll();
        }

        /// <summary>Starts one image as soon as a slot is free, writing what finishes meanwhile.</summary>
        private protected void Enqueue(CaptionJob job)
        {
            while (!batch!.HasSlot)
            {
                Report(TakeNext());
            }

            WriteVerbose($"Captioning '{job.Path}'.");
            batch.Start(job);
            while (batch.TryTake(out CaptionEvent? next))
            {
                Report(next!);
            }
        }

        /// <summary>Waits for every image in flight; call from EndProcessing.</summary>
        private protected void DrainAll()
        {
            while (batch is not null && batch.InFlight > 0)
            {
                Report(TakeNext());
            }

            progress?.Complete();
        }

        /// <summary>Handles a captioned image (output, files).</summary>
        private protected abstract void OnCompleted(CaptionEvent completed);

        /// <summary>Called when Ctrl+C stops the run, before the pipeline stops; nothing can be written any more.</summary>
        private protected virtual void OnInterrupted()
        {
        }

        /// <summary>Called when the circuit breaker stops the run, before the terminating error.</summary>
        private protected virtual void OnStopping()
        {
        }

        /// <summary>Handles a failed image; by default a non-terminating error.</summary>
        private protected virtual void OnFailed(CaptionEvent failed)
        {
            WriteError(ErrorRecords.From(failed.Error!, failed.Path));
            Progress.Failed(failed.Path);
        }

        private CaptionEvent TakeNext()
        {
            try
            {
                // While answers stream in, the bar shows the tokens a few times a second.
                CaptionEvent? next;
                while (!batch!.TryTake(TimeSpan.FromMilliseconds(250), out next))
                {
                    Progress.Streaming(batch.TokensReceived, Math.Min(batch.InFlight, batch.ThrottleLimit));
                }

                return next!;
            }
            catch (OperationCanceledException)
            {
                OnInterrupted();
                throw new PipelineStoppedException();
            }
        }

        /// <summary>A line for the host outside the output: still taken after Ctrl+C, when the output is closed.</summary>
        private protected void TellHost(string text, bool warning)
        {
            try
            {
                if (warning)
                {
                    Host.UI.WriteWarningLine(text);
                }
                else
                {
                    Host.UI.WriteLine(text);
                }
            }
            catch (Exception e) when (e is PipelineStoppedException || e is InvalidOperationException || e is NotImplementedException || e is System.IO.IOException || e is System.Management.Automation.Host.HostException)
            {
                // A host that takes no more lines once stopped: there is no one left to tell.
            }
        }

        /// <summary>True under -WhatIf, typed or from $WhatIfPreference.</summary>
        private protected bool IsWhatIf() =>
            (MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? value) && value is SwitchParameter { IsPresent: true })
            || (!MyInvocation.BoundParameters.ContainsKey("WhatIf") && SessionState.PSVariable.GetValue("WhatIfPreference") is object preference && LanguagePrimitives.IsTrue(preference));

        /// <summary>Watches for SIGTERM while a run goes on, so it stops as on Ctrl+C (the batch path, which starts no batch).</summary>
        private protected void WatchTermination() => termination ??= new TerminationSignal();

        /// <summary>Handles one event on the pipeline thread: output, errors, the circuit breaker.</summary>
        private protected void Report(CaptionEvent next)
        {
            switch (next.Kind)
            {
                case CaptionEventKind.Message:
                    WriteVerbose($"{System.IO.Path.GetFileName(next.Path)}: {next.Text}");
                    break;
                case CaptionEventKind.Warning:
                    WriteWarning(next.Text);
                    break;
                case CaptionEventKind.Completed:
                    breaker.Succeeded();
                    OnCompleted(next);
                    break;
                case CaptionEventKind.Failed:
                    OnFailed(next);
                    if (breaker.Failed(next.Error!) is CaptionException stop)
                    {
                        Cancellation.Cancel();
                        Progress.Complete();
                        OnStopping();
                        ThrowTerminatingError(ErrorRecords.From(stop, next.Path));
                    }

                    break;
            }
        }
    }
}
