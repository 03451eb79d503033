using VlmCaption.Conversation;
using VlmCaption.Run;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Captions every image under caption.yaml's base_directory and writes the captions, like the original tool.</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "VlmCaptionRun", SupportsShouldProcess = true, DefaultParameterSetName = PathSet)]
    [OutputType(typeof(RunSummary), typeof(CaptionResult))]
    public sealed class InvokeVlmCaptionRunCommand : CaptionCommandBase
    {
        private const string PathSet = "ConfigPath";
        private const string ObjectSet = "Config";

        private CaptionConfig config = null!;
        private FolderRun run = null!;

        /// <summary>The caption.yaml to run.</summary>
        [Parameter(Position = 0, ParameterSetName = PathSet)]
        [ValidateNotNullOrEmpty]
        public string ConfigPath { get; set; } = "caption.yaml";

        /// <summary>The caption.yaml to run, taken exactly as written; Get-Item caption.yaml pipes here.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ParameterSets.LiteralPath, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP", "FullName")]
        [ValidateNotNullOrEmpty]
        public string? LiteralPath { get; set; }

        /// <summary>A configuration from Import-VlmCaptionConfig.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ObjectSet, ValueFromPipeline = true)]
        [ValidateNotNull]
        public CaptionConfig? Config { get; set; }

        /// <summary>Caption again even where a caption exists (as -Existing Overwrite, unless -Existing says Append or Prepend).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Overrides existing: Skip, Overwrite, Append or Prepend an image's caption.</summary>
        [Parameter]
        [ValidateSet("Skip", "Overwrite", "Append", "Prepend")]
        public string? Existing { get; set; }

        /// <summary>Overrides shard: "i/n", the part (1 to n) of the images this run takes, for n machines sharing one dataset.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Shard { get; set; }

        /// <summary>Overrides batch: caption through the endpoint's Batch API in rounds (one a prompt), at a batch price, resumable at any point.</summary>
        [Parameter]
        public SwitchParameter Batch { get; set; }

        /// <summary>Overrides batch_files: write each round's request files into this folder and read their outputs from it (vLLM run-batch, manual upload).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? BatchFiles { get; set; }

        /// <summary>
        /// Cancels the batches the batch run's state folder holds as still running at the provider (POST
        /// /batches/{id}/cancel), emits each with the status the provider answered, and captions nothing. The
        /// folder stays: a later run collects what they answered and sends the rest again.
        /// </summary>
        [Parameter]
        public SwitchParameter CancelBatch { get; set; }

        /// <summary>Sets fallback's model: the images this run's model refuses or fails on go to this one, in the same run.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(ModelNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string? FallbackModel { get; set; }

        /// <summary>Overrides keep_line_breaks: an image's one caption keeps the model's line breaks instead of being written on one line.</summary>
        [Parameter]
        public SwitchParameter KeepLineBreaks { get; set; }

        /// <summary>Emit each CaptionResult instead of the summary, which then goes to -SummaryVariable.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>The name of a variable (without $) that receives the RunSummary, with or without -PassThru.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? SummaryVariable { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            try
            {
                config = ConfigOverlay.Apply(this, Config ?? ConfigLoader.Load(this, LiteralPath ?? ConfigPath));
                var host = new RunHost
                {
                    Verbose = WriteVerbose,
                    Warning = WriteWarning,
                    Tell = TellHost,
                    Error = (image, error) => WriteError(ErrorRecords.From(error, image)),
                    ShouldProcess = ShouldProcess,
                    BatchProgress = (status, percent) => WriteProgress(new ProgressRecord(2, BatchActivity, status) { PercentComplete = Math.Min(100, percent) }),
                    BatchProgressDone = () => WriteProgress(new ProgressRecord(2, BatchActivity, "Done") { RecordType = ProgressRecordType.Completed }),
                    Progress = Progress,
                };
                using (run = new FolderRun(config, host, Force, IsWhatIf()))
                {
                    Run(host);
                }
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, config?.Path ?? ConfigPath));
            }
        }

        private const string BatchActivity = "Captioning in batch rounds";

        /// <inheritdoc />
        private protected override void OnCompleted(CaptionEvent completed)
        {
            if (run.Completed(completed) is IReadOnlyList<CaptionResult> results && PassThru)
            {
                foreach (CaptionResult result in results)
                {
                    WriteObject(StructuredData.Attach(result));
                }
            }
        }

        /// <inheritdoc />
        private protected override void OnFailed(CaptionEvent failed) => run.Failed(failed.Path, failed.Error!);

        /// <inheritdoc />
        private protected override void OnStopping() => WriteSummary(stopped: true);

        /// <inheritdoc />
        private protected override void OnInterrupted()
        {
            if (run is null)
            {
                return;
            }

            // The output is closed once the pipeline stops, but the variable still takes what was done so far; set
            // first, so nothing the host does with the line below can keep it from a script's finally block.
            RunSummary done = run.Summary(stopped: true);
            if (SummaryVariable is not null)
            {
                SessionState.PSVariable.Set(SummaryVariable, done);
            }

            // The host still takes a line, so a stopped run does not end in silence.
            TellHost(FolderRun.StoppedLine(done), true);
        }

        /// <summary>The summary goes to the output unless -PassThru fills it with results, and to -SummaryVariable when named.</summary>
        private void WriteSummary(bool stopped = false)
        {
            RunSummary summary = run.Summary(stopped);
            if (SummaryVariable is not null)
            {
                SessionState.PSVariable.Set(SummaryVariable, summary);
            }

            if (!PassThru)
            {
                WriteObject(summary);
            }
        }

        private void Run(RunHost host)
        {
            if (CancelBatch)
            {
                // Nothing is walked or captioned: only the batches the state folders name are cancelled.
                foreach (FolderBatchRun batches in FolderBatchRun.Of(run, host))
                {
                    foreach ((string batchId, string status) in batches.Cancel(Cancellation.Token))
                    {
                        var item = new PSObject();
                        item.Properties.Add(new PSNoteProperty("BatchId", batchId));
                        item.Properties.Add(new PSNoteProperty("Status", status));
                        item.Properties.Add(new PSNoteProperty("Folder", batches.Folder));
                        WriteObject(item);
                    }
                }

                return;
            }

            var hints = new HintSources(this, ConfigLoader.HintSourcesOf(this, config), config);
            run.FallbackEnabled = !(config.Batch || config.BatchFiles is not null);
            List<string> images = run.Find();
            PreflightResult? checkedModel = run.NeedsModelFirst ? Preflight(config) : null;
            run.Model = checkedModel?.Model ?? run.Model;
            if (config.Batch || config.BatchFiles is not null)
            {
                if (config.Fallback is not null)
                {
                    WriteWarning("Batch rounds do not use the fallback model; run the refused or failed images again live (without -Batch) to give them to it.");
                }

                // Several models: a batch run each, one after another; the summary counts an image once per model.
                IReadOnlyList<FolderBatchRun> batches = FolderBatchRun.Of(run, host);
                if (batches.Count > 1)
                {
                    run.Restart(images.Count * batches.Count);
                }

                WatchTermination();
                foreach (FolderBatchRun batch in batches)
                {
                    try
                    {
                        batch.Run(images, image => new CaptionJob(image, hints.Build(image, image)), one => ReferenceEquals(one, config) && checkedModel is not null ? checkedModel : Preflight(one), Report, Cancellation.Token);
                    }
                    catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
                    {
                        // Its batches run on at the provider and cost, so they are named; output is closed by now, the host still takes a line.
                        OnInterrupted();
                        if (batch.StillRunning() is string line)
                        {
                            TellHost(line, true);
                        }

                        throw new PipelineStoppedException();
                    }
                }
            }
            else
            {
                CaptionLive(run, config, run.ImagesToCaption(images, run.Action, claim: true), image => new CaptionJob(image, hints.Build(image, image)) { Models = run.ModelsFor(image) }, checkedModel);
            }

            if (!run.WhatIf)
            {
                WriteSummary();
            }
        }
    }
}
