using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption.Batch
{
    /// <summary>
    /// The provider's side of a batch run: uploads an attempt's request files, creates their batches, waits for
    /// them (a status checked to be the batch this run made), keeps each ended batch's output and error files
    /// beside its part within a bound, and deletes what the provider stores. Also what a stopped run leaves at
    /// the provider: the batches still running, and cancelling them. <see cref="BatchRun"/> plans the rounds and
    /// reads the answers; this class only talks to the Batch API, on the caller's thread.
    /// </summary>
    internal sealed class BatchSubmission
    {
        private readonly BatchService service;
        private readonly CaptionSettings settings;
        private readonly BatchOptions options;
        private readonly string shownUrl;
        private bool deleteFailureSaid;

        public BatchSubmission(BatchService service, CaptionSettings settings, BatchOptions options, string shownUrl)
        {
            this.service = service;
            this.settings = settings;
            this.options = options;
            this.shownUrl = shownUrl;
        }

        /// <summary>Receives detail lines, for -Verbose.</summary>
        public Action<string>? Verbose { get; set; }

        /// <summary>Receives what the run should hear.</summary>
        public Action<string>? Warning { get; set; }

        /// <summary>Receives the progress: what is going on, and the percent done (-1 for unknown).</summary>
        public Action<string, int>? Progress { get; set; }

        /// <summary>
        /// Runs a call of the Batch API and hands its log lines to <paramref name="log"/> on this thread once it returns:
        /// the service's retries log from thread-pool threads, and PowerShell takes messages only on its own thread.
        /// </summary>
        internal static T Held<T>(Func<Action<string>, Task<T>> call, Action<string>? log)
        {
            var held = new System.Collections.Concurrent.ConcurrentQueue<string>();
            try
            {
                return call(held.Enqueue).GetAwaiter().GetResult();
            }
            finally
            {
                while (held.TryDequeue(out string? line))
                {
                    log?.Invoke(line);
                }
            }
        }

        private T Call<T>(Func<Action<string>, Task<T>> call) => Held(call, Verbose);

        /// <summary>The batches this folder's run submitted that have not ended as far as it knows, by id, in order.</summary>
        internal static IReadOnlyList<string> RunningBatches(string folderPath) => SubmittedParts(folderPath).Select(p => p.BatchId).ToList();

        /// <summary>
        /// Cancels the batches a run's folder holds as still running (POST /batches/{id}/cancel), so they stop costing.
        /// The folder stays: a later run collects what they answered before they stopped and sends the rest again.
        /// Returns each batch with the status the provider answered, or the error it gave.
        /// </summary>
        internal static IReadOnlyList<(string BatchId, string Outcome)> CancelRunning(CaptionSettings settings, string folderPath, Action<string>? log, CancellationToken cancellationToken)
        {
            var outcomes = new List<(string, string)>();
            using var folder = new BatchFolder(folderPath);
            var service = new BatchService(settings);
            foreach ((_, string batchId) in SubmittedParts(folderPath))
            {
                try
                {
                    outcomes.Add((batchId, Held(held => service.CancelAsync(batchId, held, cancellationToken), log).Status));
                }
                catch (CaptionException e) when (!cancellationToken.IsCancellationRequested)
                {
                    outcomes.Add((batchId, "not cancelled: " + e.Message));
                }
            }

            return outcomes;
        }

        // Parts with a batch id and no .finished beside them: submitted, and not known to have ended.
        private static IEnumerable<(string Part, string BatchId)> SubmittedParts(string folderPath)
        {
            if (!Directory.Exists(folderPath))
            {
                yield break;
            }

            foreach (string round in Directory.GetDirectories(folderPath, "round-*").OrderBy(d => d, StringComparer.Ordinal))
            {
                foreach (string attempt in Directory.GetDirectories(round, "attempt-*").OrderBy(d => d.Length).ThenBy(d => d, StringComparer.Ordinal))
                {
                    foreach (string part in BatchParts.Existing(attempt).Where(p => !File.Exists(BatchParts.Finished(p))))
                    {
                        if (BatchParts.ReadIds(part).TryGetValue("batch_id", out string? batchId))
                        {
                            yield return (part, batchId);
                        }
                    }
                }
            }
        }

        /// <summary>Submits each part not yet submitted, then waits for all of them, downloading each output as its batch ends; true when all have ended.</summary>
        public bool SubmitAndWait(IReadOnlyList<string> parts, string where, CancellationToken cancellationToken)
        {
            var waiting = new List<(string Part, string BatchId)>();
            foreach (string part in parts)
            {
                if (File.Exists(BatchParts.Finished(part)))
                {
                    continue;
                }

                Dictionary<string, string> ids = BatchParts.ReadIds(part);
                if (!ids.ContainsKey("file_id"))
                {
                    if (RegularFile.Check(part, options.MaxBytesPerFile) != RegularFile.Kind.Readable)
                    {
                        throw BatchFolder.Invalid(part, $"is empty, not a regular file or larger than a request file may be ({options.MaxBytesPerFile} bytes)");
                    }

                    Progress?.Invoke($"{where}: uploading {Path.GetFileName(part)}", -1);
                    ids["file_id"] = Call(log => service.UploadAsync(part, log, cancellationToken));
                    BatchParts.WriteIds(part, ids);
                }

                if (!ids.ContainsKey("batch_id"))
                {
                    ids["batch_id"] = Call(log => service.CreateAsync(ids["file_id"], Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(part))) + "/" + Path.GetFileName(part), log, cancellationToken));
                    BatchParts.WriteIds(part, ids);
                    Verbose?.Invoke($"{where}: submitted {Path.GetFileName(part)} as batch {ids["batch_id"]}.");
                }

                waiting.Add((part, ids["batch_id"]));
            }

            TimeSpan delay = options.PollFirst;
            while (waiting.Count > 0)
            {
                int total = 0, done = 0;
                var states = new List<string>();
                foreach ((string part, string batchId) in waiting.ToList())
                {
                    BatchStatus status = Poll(part, batchId, where, cancellationToken);
                    total += status.Total;
                    done += status.Completed + status.Failed;
                    states.Add($"{batchId} {status.Status}");
                    if (status.Ended)
                    {
                        Download(part, batchId, status, where, cancellationToken);
                        waiting.Remove((part, batchId));
                    }
                }

                if (waiting.Count == 0)
                {
                    break;
                }

                Progress?.Invoke($"{where}: {string.Join(", ", states)}; {done} of {total} requests answered", total > 0 ? done * 100 / total : -1);
                Task.Delay(delay, cancellationToken).GetAwaiter().GetResult();
                delay = TimeSpan.FromTicks(Math.Min(options.PollMax.Ticks, (long)(delay.Ticks * 1.5)));
            }

            return true;
        }

        /// <summary>
        /// A batch's status, checked to be the batch this part submitted: a batch that runs another input file (a
        /// provider's mix-up, or ids edited in the state folder) or is gone is taken as failed, so its requests are
        /// sent again and nothing of another batch is read as theirs.
        /// </summary>
        private BatchStatus Poll(string part, string batchId, string where, CancellationToken cancellationToken)
        {
            BatchStatus status;
            try
            {
                status = Call(log => service.GetAsync(batchId, log, cancellationToken));
            }
            catch (CaptionException e) when (e.StatusCode == 404)
            {
                return new BatchStatus { Status = "failed", Errors = $"{shownUrl} no longer knows batch {batchId} (HTTP 404)" };
            }

            string uploaded = BatchParts.ReadIds(part)["file_id"];
            if (status.InputFileId is string input && input != uploaded)
            {
                Warning?.Invoke($"{where}: batch {batchId} runs file {input}, not the file {uploaded} uploaded for it; nothing of it is read, and its requests are sent again.");
                return new BatchStatus { Status = "failed", Errors = $"batch {batchId} runs another input file ({input})" };
            }

            return status;
        }

        /// <summary>Keeps an ended batch's output and error files beside its part; then the part is finished.</summary>
        private void Download(string part, string batchId, BatchStatus status, string where, CancellationToken cancellationToken)
        {
            int requests = BatchParts.IdsOf(part).Count;
            long bound = Math.Min(4L << 30, requests * (settings.MaxAnswerBytes + (64 << 10)) + (1 << 20));
            if (status.Status == "failed")
            {
                Warning?.Invoke($"{where}: batch {batchId} failed: {(status.Errors.Length > 0 ? status.Errors : "no reason given")}. Its requests are sent again in a new batch.");
                BatchFolder.WriteWhole(BatchParts.Finished(part), "failed\n" + status.Errors);
                DeleteStored(part, status, cancellationToken);
                return;
            }

            if (status.Status is "expired" or "cancelled")
            {
                Warning?.Invoke($"{where}: batch {batchId} {status.Status} with {status.Completed} of {status.Total} requests answered; the answers are kept and the rest are sent again in a new batch.");
            }

            foreach ((string? file, string path) in new[] { (status.OutputFileId, BatchParts.OutputPath(part)), (status.ErrorFileId, BatchParts.ErrorsPath(part)) })
            {
                if (file is null)
                {
                    continue;
                }

                try
                {
                    if (!Call(log => service.DownloadAsync(file, path, bound, log, cancellationToken)))
                    {
                        Warning?.Invoke($"{where}: file {file} of batch {batchId} is longer than {bound} bytes, more than its {requests} answers can be; the first {bound} bytes were kept, and the requests whose answers were not are sent again.");
                    }
                }
                catch (CaptionException e) when (e.StatusCode == 404)
                {
                    // OpenAI keeps a batch's output and error files for 30 days (its Batch guide); a run resumed later
                    // finds them gone. The answers it held are lost, so their requests are sent again.
                    Warning?.Invoke($"{where}: file {file} of batch {batchId} is no longer stored at {shownUrl} (HTTP 404; providers delete batch outputs after a while); the requests it answered are sent again.");
                }
            }

            BatchFolder.WriteWhole(BatchParts.Finished(part), status.Status + "\n");
            DeleteStored(part, status, cancellationToken);
        }

        /// <summary>Removes the part's files from the provider's storage once their answers are on disk; what cannot be removed is said once.</summary>
        private void DeleteStored(string part, BatchStatus status, CancellationToken cancellationToken)
        {
            var stored = new List<string>();
            if (BatchParts.ReadIds(part).TryGetValue("file_id", out string? input))
            {
                stored.Add(input);
            }

            stored.AddRange(new[] { status.OutputFileId, status.ErrorFileId }.OfType<string>());
            foreach (string id in stored)
            {
                if (!Call(log => service.DeleteAsync(id, log, cancellationToken)) && !deleteFailureSaid)
                {
                    deleteFailureSaid = true;
                    Warning?.Invoke($"{shownUrl} did not delete the batch file {id} from its storage; batch files left there count toward its storage limits until deleted.");
                }
            }
        }
    }
}
