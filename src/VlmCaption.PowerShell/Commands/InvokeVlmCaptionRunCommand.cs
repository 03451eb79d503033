using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using VlmCaption.Config;
using VlmCaption.Conversation;
using VlmCaption.Images;
using VlmCaption.Output;
using VlmCaption.Transport;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Captions every image under caption.yaml's base_directory and writes the captions, like the original tool.</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "VlmCaptionRun", SupportsShouldProcess = true, DefaultParameterSetName = PathSet)]
    [OutputType(typeof(RunSummary), typeof(CaptionResult))]
    public sealed class InvokeVlmCaptionRunCommand : CaptionCommandBase
    {
        private const string PathSet = "ConfigPath";
        private const string ObjectSet = "Config";
        private const string LiteralPathSet = "LiteralPath";

        private CaptionConfig config = null!;
        private RunTally tally = null!;
        private string model = "";
        private string promptField = "";
        private CaptionClaims? claims;
        private PostProcessing rules = null!;
        private CaptionPlacement placement = CaptionPlacement.Beside;
        private CaptionWriter writer = null!;

        /// <summary>The caption.yaml to run.</summary>
        [Parameter(Position = 0, ParameterSetName = PathSet)]
        [ValidateNotNullOrEmpty]
        public string ConfigPath { get; set; } = "caption.yaml";

        /// <summary>The caption.yaml to run, taken exactly as written; Get-Item caption.yaml pipes here.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP", "FullName")]
        [ValidateNotNullOrEmpty]
        public string? LiteralPath { get; set; }

        /// <summary>A configuration from Import-VlmCaptionConfig.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ObjectSet, ValueFromPipeline = true)]
        [ValidateNotNull]
        public CaptionConfig? Config { get; set; }

        /// <summary>Overrides base_directory.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? BaseDirectory { get; set; }

        /// <summary>Overrides recursive.</summary>
        [Parameter]
        public SwitchParameter Recurse { get; set; }

        /// <summary>Overrides base_url: one or several endpoints serving the same model.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? BaseUrl { get; set; }

        /// <summary>Overrides model.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(ModelNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string? Model { get; set; }

        /// <summary>Overrides concurrent_batch_size: images in flight on each endpoint.</summary>
        [Parameter]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; }

        /// <summary>Overrides api_key.</summary>
        [Parameter]
        [ApiKeyTransformation]
        public SecureString? ApiKey { get; set; }

        /// <summary>Caption again even where a caption exists (as -Existing Overwrite, unless -Existing says Append or Prepend).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Overrides existing: Skip, Overwrite, Append or Prepend an image's caption.</summary>
        [Parameter]
        [ValidateSet("Skip", "Overwrite", "Append", "Prepend")]
        public string? Existing { get; set; }

        /// <summary>Overrides output_directory: the folder that takes the captions, mirroring the folders under base_directory.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>Overrides captions_per_image: independent conversations per image, written one caption per line.</summary>
        [Parameter]
        [ValidateRange(1, CaptionSettings.MaxCaptionsPerImage)]
        public int Count { get; set; }

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
                config = Effective(Config ?? ConfigLoader.Load(this, LiteralPath ?? ConfigPath));
                Run();
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, config?.Path ?? ConfigPath));
            }
        }

        /// <inheritdoc />
        private protected override void OnCompleted(CaptionEvent completed)
        {
            IReadOnlyList<CaptionResult> results = completed.Results;
            string image = completed.Path;
            if (config.ChatHistoryDir is string historyFolder && ChatHistoryFolder.Write(historyFolder, completed.History) is string problem)
            {
                WriteWarning(problem);
            }

            if (results.FirstOrDefault(r => r.Status == CaptionStatus.Truncated) is CaptionResult cut)
            {
                // An image is written whole or not at all: one cut-off caption of several holds back the rest too.
                WriteWarning($"The caption of '{image}'{(cut.CaptionCount > 1 ? $" ({cut.CaptionIndex} of {cut.CaptionCount})" : "")} was cut off by the answer limit ({config.MaxTokens} tokens) and was not written; the next run tries it again. Raise max_tokens.");
                tally.Truncated(cut);
                Progress.Truncated(image);
            }
            else
            {
                try
                {
                    var texts = new List<string>(results.Count);
                    foreach (CaptionResult result in results)
                    {
                        result.Caption = rules.Apply(result.Caption);
                        texts.Add(config.Prefix + result.Caption + config.Suffix);
                    }

                    writer.Write(image, texts, config.Existing, overwrite: true, model, promptField);
                }
                catch (CaptionException e)
                {
                    Fail(image, e);
                    return;
                }

                tally.Succeeded(results[0]);
                Progress.Captioned(image);
            }

            ReleaseClaim(image);

            if (PassThru)
            {
                foreach (CaptionResult result in results)
                {
                    WriteObject(result);
                }
            }
        }

        /// <inheritdoc />
        private protected override void OnFailed(CaptionEvent failed) => Fail(failed.Path, failed.Error!);

        /// <inheritdoc />
        private protected override void OnStopping() => WriteSummary(stopped: true);

        /// <inheritdoc />
        private protected override void OnInterrupted()
        {
            if (tally is null)
            {
                return;
            }

            // The output is closed once the pipeline stops, but the variable still takes what was done so far; set
            // first, so nothing the host does with the line below can keep it from a script's finally block.
            RunSummary done = tally.ToSummary();
            done.Stopped = true;
            if (SummaryVariable is not null)
            {
                SessionState.PSVariable.Set(SummaryVariable, done);
            }

            // The host still takes a line, so a stopped run does not end in silence.
            TellHost($"Stopped after {done.Succeeded + done.Failed + done.Skipped} of {done.Total} images: {done.Succeeded} captioned, {done.Failed} failed, {done.Skipped} skipped. Run the same command again to go on where it stopped.");
        }

        /// <summary>The summary goes to the output unless -PassThru fills it with results, and to -SummaryVariable when named.</summary>
        private void WriteSummary(bool stopped = false)
        {
            RunSummary summary = tally.ToSummary();
            summary.Stopped = stopped;
            if (SummaryVariable is not null)
            {
                SessionState.PSVariable.Set(SummaryVariable, summary);
            }

            if (!PassThru)
            {
                WriteObject(summary);
            }
        }

        private void Fail(string path, CaptionException error)
        {
            ReleaseClaim(path);
            WriteError(ErrorRecords.From(error, path));
            tally.Failed(path, error.ErrorId, error.Message);
            Progress.Failed(path);
        }

        private void Run()
        {
            if (!Directory.Exists(config.BaseDirectory))
            {
                throw new CaptionException("BaseDirectoryNotFound", CaptionErrorCategory.ObjectNotFound, $"The folder of {config.Where("base_directory")}, '{config.BaseDirectory}', does not exist. Fix base_directory or pass -BaseDirectory.");
            }

            if (config.OutputDirectory is string output && File.Exists(output))
            {
                throw new CaptionException("OutputDirectoryIsFile", CaptionErrorCategory.InvalidArgument, $"The output folder of {config.Where("output_directory")}, '{output}', is a file. Name a folder (it is made if missing).");
            }

            if (CancelBatch)
            {
                // Nothing is walked or captioned: only the batches the state folder names are cancelled.
                CancelBatches(BatchStateFolder(), config.BatchFiles is not null, IsWhatIf());
                return;
            }

            if (CaptionAffix.Problem(config.Prefix, config.Suffix) is string affix)
            {
                WriteWarning(affix + " Set it so in caption.yaml.");
            }

            placement = CaptionPlacement.For(config);
            writer = CaptionWriter.For(config);

            // The walk cleans the image folders; an output folder's are cleaned as the writer first writes there.
            writer.Leftovers = placement.Destination is not null ? new LeftoverCleaner() : null;
            writer.Removed = WriteVerbose;
            writer.Problem = WriteWarning;
            HintSources hints = new HintSources(this, ConfigLoader.HintSourcesOf(this, config), config);
            rules = new PostProcessing(config);
            string action = (config.CaptionsPerImage > 1 ? $"Caption {config.CaptionsPerImage} times" : "Caption")
                + (rules.IsEmpty ? "" : $", then post-process ({rules.Describe()})")
                + (placement.Destination is null ? "" : $", writing into '{placement.Destination}'");
            string? metadata = config.GlobalMetadataFile is null ? null : GlobalMetadata.Read(config.GlobalMetadataFile);
            bool whatIf = IsWhatIf();
            List<string> images = ImageWalker.Find(config.BaseDirectory, config.Recursive, (folder, why) => WriteWarning($"'{folder}' {why}."), leftover =>
            {
                // A run killed between writing a caption's temporary file and renaming it leaves that file.
                if (!whatIf)
                {
                    WriteVerbose($"Removing '{leftover}', left by a run that was stopped while writing.");
                    try
                    {
                        File.Delete(leftover);
                    }
                    catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                    {
                        WriteWarning($"Could not remove '{leftover}': {e.Message}");
                    }
                }
            });
            WriteVerbose($"Found {images.Count} images under '{config.BaseDirectory}'{(config.Recursive ? " and its subfolders" : "")}; captions go {placement}.");
            if (images.Count == 0)
            {
                WriteWarning($"There are no images in '{config.BaseDirectory}'{(config.Recursive ? " or its subfolders" : " (its subfolders are looked into with recursive: true or -Recurse)")}; nothing to caption.");
            }

            if (config.Shard is string part)
            {
                // Each machine of n takes the images whose path below base_directory hashes to its part.
                Output.Shard shard = Output.Shard.Parse(part);
                int all = images.Count;
                images = images.Where(image => shard.Contains(RelativePath.Under(config.BaseDirectory, image) ?? image)).ToList();
                WriteVerbose($"Shard {shard}: {images.Count} of the {all} images.");
            }

            promptField = JsonlCaptionFile.PromptField(config.Prompts);
            tally = new RunTally(images.Count);
            Progress.Total = images.Count;

            // jsonl skips by model, so the model must be known first; otherwise the server is asked only when
            // some image needs it, and a run over a finished folder sends nothing.
            PreflightResult? checkedModel = null;
            model = config.Model;
            if (config.OutputFormat == "jsonl" && config.SkipIfCaptionExists && !Force && model.Length == 0 && !whatIf && config.BatchFiles is null)
            {
                checkedModel = Preflight(config);
                model = checkedModel.Model;
            }

            if (config.Batch || config.BatchFiles is not null)
            {
                RunBatch(images, hints, metadata, action, whatIf, checkedModel);
                return;
            }

            // With skip on, each image is claimed before it is sent, so two runs over one folder never caption it twice.
            claims = config.SkipIfCaptionExists && !Force && !whatIf ? new CaptionClaims() : null;
            try
            {
                // Images are sent as they are met, so nothing but the walk's list grows with the folder; the
                // server is first asked when some image needs it.
                bool started = false;
                foreach (string image in ImagesToCaption(images, action, whatIf))
                {
                    if (!Claim(image))
                    {
                        continue;
                    }

                    if (!started)
                    {
                        checkedModel ??= Preflight(config);
                        model = checkedModel.Model;
                        StartBatch(config, checkedModel, keepHistory: config.ChatHistoryDir is not null, metadata);
                        started = true;
                    }

                    Enqueue(new CaptionJob(image, hints.Build(image, image)));
                }

                DrainAll();
            }
            finally
            {
                claims?.Dispose();
            }

            if (!whatIf)
            {
                WriteSummary();
            }
        }

        /// <summary>
        /// Captions in batch rounds (-Batch, -BatchFiles). The state folder decides: a run it holds goes on from
        /// where it stopped, without listing the images again; otherwise the images to caption are chosen as a live
        /// run chooses them, prepared once, and the rounds begin. Finished images go through the live path's writers.
        /// </summary>
        private void RunBatch(List<string> images, HintSources hints, string? metadata, string action, bool whatIf, PreflightResult? checkedModel)
        {
            bool files = config.BatchFiles is not null;
            string folder = BatchStateFolder();
            bool goesOn = VlmCaption.Batch.BatchRun.Exists(folder);
            if (whatIf)
            {
                if (goesOn)
                {
                    ShouldProcess(folder, "Go on with the batch run kept here");
                }
                else
                {
                    foreach (string image in ImagesToCaption(images, action + ", in batch rounds", whatIf))
                    {
                    }
                }

                return;
            }

            List<CaptionJob> jobs = goesOn ? new List<CaptionJob>() : ImagesToCaption(images, action, whatIf).Select(image => new CaptionJob(image, hints.Build(image, image))).ToList();
            if (!goesOn && jobs.Count == 0)
            {
                WriteSummary();
                return;
            }

            if (files && config.Model.Length == 0)
            {
                throw new CaptionException("ModelRequired", CaptionErrorCategory.InvalidArgument, $"Request files name their model, and with batch_files no server is asked which it serves: set model in {Path.GetFileName(config.Path ?? "caption.yaml")} or pass -Model.");
            }

            if (!files && config.BaseUrl.Length > 1)
            {
                WriteWarning($"A batch run submits to one endpoint: {EndpointUrl.Display(config.BaseUrl[0])}; the other base_url entries are not used.");
            }

            PreflightResult chosen = files ? new PreflightResult { Model = config.Model } : checkedModel ?? Preflight(config);
            model = chosen.Model;
            CaptionSettings settings = ConfigSettings.ToSettings(config, chosen, keepHistory: config.ChatHistoryDir is not null) with { Stream = false, BaseUrls = new[] { config.BaseUrl[0] } };
            var options = new VlmCaption.Batch.BatchOptions
            {
                Folder = folder,
                BaseDirectory = config.BaseDirectory,
                FilesOnly = files,
                Shard = config.Shard,
                MaxRequestsPerFile = config.BatchMaxRequests,
                MaxBytesPerFile = config.BatchMaxBytes,
                PollFirst = TimeSpan.FromSeconds(config.BatchPollSec),
            };
            WatchTermination();
            if (!files)
            {
                // Before anything is prepared or kept: a server without the API leaves no state folder behind.
                VlmCaption.Batch.BatchRun.CheckEndpoint(settings, WriteVerbose, Cancellation.Token);
            }

            using var run = OpenBatch(settings, metadata, options);
            run.Report = Report;
            run.Verbose = WriteVerbose;
            run.Warning = WriteWarning;
            run.Progress = (status, percent) => WriteProgress(new ProgressRecord(2, "Captioning in batch rounds", status) { PercentComplete = Math.Min(100, percent) });
            try
            {
                if (run.HasImages)
                {
                    IReadOnlyList<string> listed = run.ListedImages();
                    WriteVerbose($"Going on with the batch run kept in '{folder}' ({listed.Count} images).");
                    tally = new RunTally(listed.Count);
                    Progress.Total = listed.Count;
                }
                else
                {
                    WriteVerbose($"Preparing {jobs.Count} images for a batch run kept in '{folder}'.");
                    run.Prepare(jobs, Cancellation.Token);
                }

                VlmCaption.Batch.BatchRunState state = run.Run(Cancellation.Token);
                WriteProgress(new ProgressRecord(2, "Captioning in batch rounds", "Done") { RecordType = ProgressRecordType.Completed });
                Progress.Complete();
                if (state == VlmCaption.Batch.BatchRunState.Waiting)
                {
                    tally.Pending(run.PendingImages);
                }
            }
            catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
            {
                // The state folder keeps every round submitted; the next run goes on from there. Its batches run on at
                // the provider and cost, so they are named; output is closed by now, the host still takes a line.
                OnInterrupted();
                if (!files && VlmCaption.Batch.BatchRun.RunningBatches(folder) is { Count: > 0 } running)
                {
                    TellHost($"Stopped. Batches {string.Join(", ", running)} run on at {EndpointUrl.Display(config.BaseUrl[0])} and are billed as they answer. Run this command again to collect their answers, or cancel them: Invoke-VlmCaptionRun -CancelBatch with the same caption.yaml or parameters.");
                }

                throw new PipelineStoppedException();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw StateFolderFailed(folder, e);
            }

            WriteSummary();
        }

        private string BatchStateFolder() =>
            config.BatchFiles ?? Path.Combine(config.OutputDirectory ?? config.BaseDirectory, VlmCaption.Batch.BatchOptions.FolderNameFor(config.Shard));

        /// <summary>-CancelBatch: cancels what the state folder holds as running and emits each batch with the provider's answer.</summary>
        private void CancelBatches(string folder, bool files, bool whatIf)
        {
            if (files)
            {
                throw new CaptionException("BatchCancelNotPossible", CaptionErrorCategory.InvalidOperation, "-CancelBatch cancels batches submitted to a Batch API; with batch_files (-BatchFiles) the request files are run by you, and nothing was submitted.");
            }

            IReadOnlyList<string> running = VlmCaption.Batch.BatchRun.RunningBatches(folder);
            if (running.Count == 0)
            {
                WriteWarning(VlmCaption.Batch.BatchRun.Exists(folder) ? $"The batch run in '{folder}' has no batch running as far as it knows; nothing to cancel." : $"There is no batch run in '{folder}'; nothing to cancel.");
                return;
            }

            if (whatIf || !ShouldProcess(string.Join(", ", running), "Cancel the batches"))
            {
                return;
            }

            CaptionSettings settings = ConfigSettings.ToSettings(config, new PreflightResult { Model = config.Model }, keepHistory: false) with { BaseUrls = new[] { config.BaseUrl[0] } };
            IReadOnlyList<(string BatchId, string Outcome)> outcomes;
            try
            {
                outcomes = VlmCaption.Batch.BatchRun.CancelRunning(settings, folder, WriteVerbose, Cancellation.Token);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw StateFolderFailed(folder, e);
            }

            foreach ((string batchId, string outcome) in outcomes)
            {
                var item = new PSObject();
                item.Properties.Add(new PSNoteProperty("BatchId", batchId));
                item.Properties.Add(new PSNoteProperty("Status", outcome));
                item.Properties.Add(new PSNoteProperty("Folder", folder));
                WriteObject(item);
            }
        }

        private void TellHost(string text, bool warning = true)
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
            catch (Exception e) when (e is PipelineStoppedException || e is InvalidOperationException || e is NotImplementedException || e is IOException || e is System.Management.Automation.Host.HostException)
            {
                // A host that takes no more lines once stopped: there is no one left to tell.
            }
        }

        /// <summary>Opens (and locks) the batch state folder; a folder that cannot be made or read is the run's one error.</summary>
        private VlmCaption.Batch.BatchRun OpenBatch(CaptionSettings settings, string? metadata, VlmCaption.Batch.BatchOptions options)
        {
            try
            {
                return new VlmCaption.Batch.BatchRun(settings, ConfigSettings.ToImageOptions(config), metadata, options);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw StateFolderFailed(options.Folder, e);
            }
        }

        private CaptionException StateFolderFailed(string folder, Exception e) =>
            new CaptionException("BatchStateFailed", CaptionErrorCategory.WriteError, $"The batch run's folder '{folder}' could not be written or read: {e.Message} Free space or fix the folder and run again; what was finished is kept.{(config.OutputDirectory is null && config.BatchFiles is null ? " With a read-only image folder, set output_directory (-Destination): the state goes there." : "")}", e);

        /// <summary>The images of the list to caption, in order: each same-stem sibling fails, captioned ones are skipped, -WhatIf and -Confirm are asked.</summary>
        private IEnumerable<string> ImagesToCaption(List<string> images, string action, bool whatIf)
        {
            var captionOwners = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string? folderOfOwners = null;
            foreach (string image in images)
            {
                if (config.OutputFormat == "txt")
                {
                    // Same-stem images share a folder, and the walk lists a folder's files together.
                    string folder = Path.GetDirectoryName(image) ?? "";
                    if (folder != folderOfOwners)
                    {
                        captionOwners.Clear();
                        folderOfOwners = folder;
                    }

                    if (!ClaimCaptionPath(image, captionOwners))
                    {
                        continue;
                    }
                }

                if (!Force && HasCaption(image))
                {
                    tally.Skipped();
                    Progress.Skipped(image);
                    WriteVerbose($"Skipping '{image}': it has a caption.");
                    if (whatIf)
                    {
                        ShouldProcess(image, "Skip (it has a caption)");
                    }

                    continue;
                }

                if (!ShouldProcess(image, action))
                {
                    wouldCaption += whatIf ? 1 : 0;
                    continue;
                }

                yield return image;
            }

            if (whatIf)
            {
                // A list of 2 000 "What if" lines needs its count at the end.
                TellHost($"What if: {wouldCaption} of {images.Count} images would be captioned; {tally.ToSummary().Skipped} have a caption and would be skipped.", warning: false);
            }
        }

        private int wouldCaption;

        /// <summary>Claims the image for this run; false (counted as skipped) when another run is captioning it or has just captioned it.</summary>
        private bool Claim(string image)
        {
            if (claims is null)
            {
                return true;
            }

            // With an output folder the claims lie there too: the image share may be read-only.
            string mirrored = placement.Mirror(image);
            placement.EnsureFolder(mirrored);
            string? holder;
            try
            {
                holder = claims.TryClaim(mirrored);
            }
            catch (CaptionException e)
            {
                // Reported, never skipped in silence: something in the claim's place is no claim.
                Fail(image, e);
                return false;
            }

            if (holder is not null)
            {
                WriteVerbose($"Skipping '{image}': another run is captioning it ({holder}).");
            }
            else if (HasCaption(image))
            {
                // Captioned by another run between the check and the claim.
                claims.Release(mirrored);
                WriteVerbose($"Skipping '{image}': another run has just captioned it.");
            }
            else
            {
                return true;
            }

            tally.Skipped();
            Progress.Skipped(image);
            return false;
        }

        private void ReleaseClaim(string image) => claims?.Release(placement.Mirror(image));

        /// <summary>For txt output, the first image of a caption file owns it; a same-stem sibling (a.jpg, a.png) fails instead of overwriting.</summary>
        private bool ClaimCaptionPath(string image, Dictionary<string, string> owners)
        {
            string target = placement.CaptionPath(image, config.CaptionExtension);
            if (owners.TryGetValue(target, out string? owner))
            {
                Fail(image, new CaptionException("CaptionPathConflict", CaptionErrorCategory.WriteError, $"'{image}' and '{owner}' would both write '{target}'; '{image}' was not captioned. Rename one of them."));
                return false;
            }

            owners[target] = image;
            return true;
        }

        private bool HasCaption(string image) => config.SkipIfCaptionExists && CaptionFile.ExistsFor(config, placement, image, model);

        private bool IsWhatIf() =>
            (MyInvocation.BoundParameters.TryGetValue("WhatIf", out object? value) && value is SwitchParameter { IsPresent: true })
            || (!MyInvocation.BoundParameters.ContainsKey("WhatIf") && SessionState.PSVariable.GetValue("WhatIfPreference") is object preference && LanguagePrimitives.IsTrue(preference));

        /// <summary>The configuration with the overrides typed on the command line.</summary>
        private CaptionConfig Effective(CaptionConfig loaded)
        {
            CaptionConfig effective = loaded.Clone();
            effective.ApiKey = ApiKey ?? loaded.ApiKey ?? ApiKeyTransformationAttribute.FromEnvironment();
            ApplyProxy(effective);
            if (MyInvocation.BoundParameters.ContainsKey(nameof(ThrottleLimit)))
            {
                effective.ConcurrentBatchSize = ThrottleLimit;
            }

            if (Existing is not null)
            {
                effective.Existing = Existing.ToLowerInvariant();
                effective.SkipIfCaptionExists = effective.Existing == "skip";
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(Recurse)))
            {
                effective.Recursive = Recurse.IsPresent;
            }

            if (BaseUrl is not null)
            {
                effective.BaseUrl = BaseUrl;
            }

            if (Model is not null)
            {
                effective.Model = Model;
            }

            if (BaseDirectory is not null)
            {
                effective.BaseDirectory = ConfigLoader.ResolveFile(this, BaseDirectory);
            }

            if (Destination is not null)
            {
                effective.OutputDirectory = ConfigLoader.ResolveFile(this, Destination);
            }

            if (Shard is not null)
            {
                try
                {
                    effective.Shard = Output.Shard.Parse(Shard).ToString();
                }
                catch (ArgumentException e)
                {
                    throw new CaptionException("InvalidShard", CaptionErrorCategory.InvalidArgument, e.Message, e);
                }
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(KeepLineBreaks)))
            {
                effective.KeepLineBreaks = KeepLineBreaks.IsPresent;
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(Count)))
            {
                effective.CaptionsPerImage = Count;
            }

            if (MyInvocation.BoundParameters.ContainsKey(nameof(Batch)))
            {
                // -Batch:$false captions live, also over a caption.yaml that names batch_files.
                effective.Batch = Batch.IsPresent;
                effective.BatchFiles = Batch.IsPresent ? effective.BatchFiles : null;
            }

            if (BatchFiles is not null)
            {
                effective.BatchFiles = ConfigLoader.ResolveFile(this, BatchFiles);
            }

            return effective;
        }
    }
}
