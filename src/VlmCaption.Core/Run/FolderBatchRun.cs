using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using VlmCaption.Batch;
using VlmCaption.Config;
using VlmCaption.Images;
using VlmCaption.Transport;

namespace VlmCaption.Run
{
    /// <summary>
    /// A <see cref="FolderRun"/> captioned in batch rounds (batch, batch_files). The state folder decides: a run it
    /// holds goes on from where it stopped, without listing the images again; otherwise the images to caption are
    /// chosen as a live run chooses them, prepared once, and the rounds begin (<see cref="BatchRun"/>). Finished
    /// images come back through the live path's events, so <see cref="FolderRun.Completed"/> writes them.
    /// </summary>
    public sealed class FolderBatchRun
    {
        private readonly FolderRun run;
        private readonly RunHost host;
        private readonly CaptionConfig config;

        // With several models compared, the one this run's rounds ask (each model has rounds and a state folder of its own).
        private readonly string? model;

        /// <summary>Prepares to run <paramref name="run"/> in rounds; with several models, the rounds of <paramref name="model"/>.</summary>
        public FolderBatchRun(FolderRun run, RunHost host, string? model = null)
        {
            this.run = run;
            this.host = host;
            this.model = model;
            config = model is null ? run.Config : run.Config.For(model);
            string folder = config.BatchFiles ?? System.IO.Path.Combine(config.OutputDirectory ?? config.BaseDirectory, BatchOptions.FolderNameFor(config.Shard));
            Folder = model is null ? folder : folder + "-" + ModelList.FileName(model);
        }

        /// <summary>
        /// The batch runs of a run: one, or with several models one a model, run one after another (a provider's
        /// batch takes requests to one model: OpenAI's input file may name only one).
        /// </summary>
        public static IReadOnlyList<FolderBatchRun> Of(FolderRun run, RunHost host) =>
            run.Config.Models.Length > 1
                ? run.Config.Models.Select(name => new FolderBatchRun(run, host, name)).ToList()
                : new[] { new FolderBatchRun(run, host) };

        /// <summary>The configuration these rounds send with: the run's, or its model's.</summary>
        public CaptionConfig Config => config;

        /// <summary>The state folder: batch_files, or a folder named for the shard in the output folder (else base_directory).</summary>
        public string Folder { get; }

        private bool FilesOnly => config.BatchFiles is not null;

        /// <summary>
        /// Runs the rounds until every image is answered or waits on request files; each finished image goes to
        /// <paramref name="report"/>. <paramref name="preflight"/> checks the endpoint (not called with batch_files).
        /// With -WhatIf only says what would be done. Throws OperationCanceledException when stopped: the state folder keeps every round submitted.
        /// </summary>
        public void Run(List<string> images, Func<string, CaptionJob> job, Func<CaptionConfig, PreflightResult> preflight, Action<CaptionEvent> report, CancellationToken cancellationToken)
        {
            bool goesOn = BatchRun.Exists(Folder);
            if (run.WhatIf)
            {
                if (goesOn)
                {
                    host.ShouldProcess(Folder, "Go on with the batch run kept here");
                }
                else
                {
                    foreach (string image in run.ImagesToCaption(images, run.Action + ", in batch rounds", claim: false))
                    {
                    }
                }

                return;
            }

            if (model is not null && !goesOn)
            {
                // This model's rounds: the images it has yet to caption (each model's captions are in files of their own).
                images = images.Where(image => !run.SkipsForModel(image, model)).ToList();
            }

            List<CaptionJob> jobs = goesOn ? new List<CaptionJob>() : run.ImagesToCaption(images, run.Action, claim: false).Select(job).ToList();
            if (!goesOn && jobs.Count == 0)
            {
                return;
            }

            if (FilesOnly && config.Model.Length == 0)
            {
                throw new CaptionException("ModelRequired", CaptionErrorCategory.InvalidArgument, $"Request files name their model, and with batch_files no server is asked which it serves: set model in {System.IO.Path.GetFileName(config.Path ?? "caption.yaml")} or pass -Model.");
            }

            if (!FilesOnly && config.BaseUrl.Length > 1)
            {
                host.Warning($"A batch run submits to one endpoint: {EndpointUrl.Display(config.BaseUrl[0])}; the other base_url entries are not used.");
            }

            PreflightResult chosen = FilesOnly ? new PreflightResult { Model = config.Model } : preflight(config);
            run.Model = model is null ? chosen.Model : run.Model;
            CaptionSettings settings = ConfigSettings.ToSettings(config, chosen, keepHistory: config.ChatHistoryDir is not null) with { Stream = false, BaseUrls = new[] { config.BaseUrl[0] } };
            var options = new BatchOptions
            {
                Folder = Folder,
                BaseDirectory = config.BaseDirectory,
                FilesOnly = FilesOnly,
                Shard = config.Shard,
                MaxRequestsPerFile = config.BatchMaxRequests,
                MaxBytesPerFile = config.BatchMaxBytes,
                PollFirst = TimeSpan.FromSeconds(config.BatchPollSec),
            };
            if (!FilesOnly)
            {
                // Before anything is prepared or kept: a server without the API leaves no state folder behind.
                BatchRun.CheckEndpoint(settings, host.Verbose, cancellationToken);
            }

            using BatchRun batch = Open(settings, options);
            batch.Report = report;
            batch.Verbose = host.Verbose;
            batch.Warning = host.Warning;
            batch.Progress = host.BatchProgress;
            try
            {
                if (batch.HasImages)
                {
                    IReadOnlyList<string> listed = batch.ListedImages();
                    host.Verbose($"Going on with the batch run kept in '{Folder}' ({listed.Count} images).");
                    if (model is null)
                    {
                        run.Restart(listed.Count);
                    }
                }
                else
                {
                    host.Verbose($"Preparing {jobs.Count} images for a batch run kept in '{Folder}'.");
                    batch.Prepare(jobs, cancellationToken);
                }

                BatchRunState state = batch.Run(cancellationToken);
                host.BatchProgressDone();
                host.Progress.Complete();
                if (state == BatchRunState.Waiting)
                {
                    run.Tally.Pending(batch.PendingImages);
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw StateFolderFailed(e);
            }
        }

        /// <summary>The line the host is left after Ctrl+C: the batches that run on at the provider and are billed; null when none does.</summary>
        public string? StillRunning()
        {
            IReadOnlyList<string> running = FilesOnly ? Array.Empty<string>() : BatchRun.RunningBatches(Folder);
            return running.Count == 0
                ? null
                : $"Stopped. Batches {string.Join(", ", running)} run on at {EndpointUrl.Display(config.BaseUrl[0])} and are billed as they answer. Run this command again to collect their answers, or cancel them: Invoke-VlmCaptionRun -CancelBatch with the same caption.yaml or parameters.";
        }

        /// <summary>-CancelBatch: cancels what the state folder holds as running; each batch with the provider's answer.</summary>
        public IReadOnlyList<(string BatchId, string Status)> Cancel(CancellationToken cancellationToken)
        {
            if (FilesOnly)
            {
                throw new CaptionException("BatchCancelNotPossible", CaptionErrorCategory.InvalidOperation, "-CancelBatch cancels batches submitted to a Batch API; with batch_files (-BatchFiles) the request files are run by you, and nothing was submitted.");
            }

            IReadOnlyList<string> running = BatchRun.RunningBatches(Folder);
            if (running.Count == 0)
            {
                host.Warning(BatchRun.Exists(Folder) ? $"The batch run in '{Folder}' has no batch running as far as it knows; nothing to cancel." : $"There is no batch run in '{Folder}'; nothing to cancel.");
                return Array.Empty<(string, string)>();
            }

            if (run.WhatIf || !host.ShouldProcess(string.Join(", ", running), "Cancel the batches"))
            {
                return Array.Empty<(string, string)>();
            }

            CaptionSettings settings = ConfigSettings.ToSettings(config, new PreflightResult { Model = config.Model }, keepHistory: false) with { BaseUrls = new[] { config.BaseUrl[0] } };
            try
            {
                return BatchRun.CancelRunning(settings, Folder, host.Verbose, cancellationToken);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw StateFolderFailed(e);
            }
        }

        /// <summary>Opens (and locks) the state folder; a folder that cannot be made or read is the run's one error.</summary>
        private BatchRun Open(CaptionSettings settings, BatchOptions options)
        {
            try
            {
                return new BatchRun(settings, ImagePreparationOptions.From(config), run.GlobalMetadata, options);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw StateFolderFailed(e);
            }
        }

        private CaptionException StateFolderFailed(Exception e) =>
            new CaptionException("BatchStateFailed", CaptionErrorCategory.WriteError, $"The batch run's folder '{Folder}' could not be written or read: {e.Message} Free space or fix the folder and run again; what was finished is kept.{(config.OutputDirectory is null && config.BatchFiles is null ? " With a read-only image folder, set output_directory (-Destination): the state goes there." : "")}", e);
    }
}
