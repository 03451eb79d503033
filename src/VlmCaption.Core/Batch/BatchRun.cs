using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using VlmCaption.Conversation;
using VlmCaption.Images;
using VlmCaption.Transport;

namespace VlmCaption.Batch
{
    /// <summary>
    /// Captions a whole set through a batch API (or request files for vLLM's run-batch) in rounds: round k holds
    /// the k-th request of every conversation still going, built from the answers of round k-1, the retry rules
    /// coming after the prompts as further rounds. The bodies are the live path's (<see cref="ChatRequestWriter"/>,
    /// unstreamed), answers are cleaned and checked as live, and each image finished is handed to
    /// <see cref="Report"/> as the live path's event, so the writers are the same. Everything lives in
    /// <see cref="BatchFolder"/>: a run started again replays the rounds on disk (no request is made for a round
    /// that is done) and goes on with the first one that is not. Runs on the caller's thread: events are raised there.
    /// The provider is talked to by <see cref="BatchSubmission"/>; its answers are read and classified by
    /// <see cref="BatchAnswerReader"/>; the part files and their names are <see cref="BatchParts"/>'s.
    /// </summary>
    public sealed class BatchRun : IDisposable
    {
        private readonly CaptionSettings settings;
        private readonly ImagePreparationOptions imageOptions;
        private readonly string? systemText;
        private readonly BatchOptions options;
        private readonly BatchFolder folder;
        private readonly BatchService? service;
        private readonly string fingerprint;
        private readonly string shownUrl;
        private int pendingImages;
        private BatchSubmission? submission;
        private BatchAnswerReader? answerReader;

        /// <summary>Opens (and locks) the state folder; throws <see cref="CaptionException"/> when another run holds it or it was started with other settings.</summary>
        public BatchRun(CaptionSettings settings, ImagePreparationOptions imageOptions, string? globalMetadata, BatchOptions options)
        {
            settings.Validate();
            this.settings = settings;
            this.imageOptions = imageOptions;
            this.options = options;
            systemText = ImageConversation.SystemText(globalMetadata, settings.SystemPrompt);
            shownUrl = options.FilesOnly ? options.Folder : EndpointUrl.Display(settings.BaseUrl);
            fingerprint = Fingerprint();
            folder = new BatchFolder(options.Folder);
            try
            {
                CheckSettings();
            }
            catch
            {
                folder.Dispose();
                throw;
            }

            service = options.FilesOnly ? null : new BatchService(settings);
        }

        /// <summary>Receives each image finished (Completed or Failed, as the live path's events), on the caller's thread.</summary>
        public Action<CaptionEvent>? Report { get; set; }

        /// <summary>Receives detail lines, for -Verbose.</summary>
        public Action<string>? Verbose { get; set; }

        /// <summary>Receives what the run should hear (an expired batch, files waiting to be run).</summary>
        public Action<string>? Warning { get; set; }

        /// <summary>Receives the progress: what is going on, and the percent done (-1 for unknown).</summary>
        public Action<string, int>? Progress { get; set; }

        /// <summary>True when the folder holds a run whose images are listed: run it without listing them again.</summary>
        public bool HasImages => File.Exists(folder.ImagesDone);

        /// <summary>Images of the run waiting for request files to be run, after <see cref="BatchRunState.Waiting"/>.</summary>
        public int PendingImages => pendingImages;

        /// <summary>The first backoff step between retries of the Batch API's calls; tests shorten it.</summary>
        public TimeSpan RetryBaseDelay
        {
            set
            {
                if (service is not null)
                {
                    service.RetryBaseDelay = value;
                }
            }
        }

        /// <summary>Checks that the settings' endpoint has a Batch API; throws <see cref="CaptionException"/> (BatchApiMissing) when it has none.</summary>
        public static void CheckEndpoint(CaptionSettings settings, Action<string>? log, CancellationToken cancellationToken) =>
            BatchSubmission.Held(async held => { await new BatchService(settings).CheckAsync(held, cancellationToken).ConfigureAwait(false); return true; }, log);

        /// <summary>The batches this folder's run submitted that have not ended as far as it knows, by id, in order.</summary>
        public static IReadOnlyList<string> RunningBatches(string folderPath) => BatchSubmission.RunningBatches(folderPath);

        /// <summary>Cancels the batches a run's folder holds as still running (see <see cref="BatchSubmission"/>); each with the provider's answer.</summary>
        public static IReadOnlyList<(string BatchId, string Outcome)> CancelRunning(CaptionSettings settings, string folderPath, Action<string>? log, CancellationToken cancellationToken) =>
            BatchSubmission.CancelRunning(settings, folderPath, log, cancellationToken);

        /// <summary>True when a folder holds a batch run's listed images.</summary>
        public static bool Exists(string folderPath) => File.Exists(Path.Combine(folderPath, "images.done"));

        /// <inheritdoc />
        public void Dispose() => folder.Dispose();

        /// <summary>The paths of the images the folder lists, for a run that goes on.</summary>
        public IReadOnlyList<string> ListedImages() => BatchImageList.Read(folder.ImagesFile, options.BaseDirectory).Select(i => i.Path).ToList();

        /// <summary>Prepares each image once, on every core, and lists them; a failure stays with its image.</summary>
        public void Prepare(IReadOnlyList<CaptionJob> jobs, CancellationToken cancellationToken)
        {
            BatchFolder.WriteWhole(folder.SettingsFile, fingerprint);
            BatchFolder.WriteWhole(folder.RunIdFile, Guid.NewGuid().ToString("N").Substring(0, 16));
            File.Delete(folder.ImagesFile);
            var preparer = new ImagePreparer(imageOptions);
            var notes = new HashSet<string>();
            int width = Math.Max(1, Environment.ProcessorCount) * 2;
            using (var stream = new FileStream(folder.ImagesFile, FileMode.Create, FileAccess.Write, FileShare.Read))
            using (var list = new StreamWriter(stream, new System.Text.UTF8Encoding(false)))
            {
                for (int start = 0; start < jobs.Count; start += width)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Progress?.Invoke($"Preparing images: {start} of {jobs.Count}", start * 100 / jobs.Count);
                    var chunk = jobs.Skip(start).Take(width).Select((job, i) => (Job: job, Number: start + i + 1)).ToList();
                    Task<(BatchImage, string?)>[] prepared = chunk.Select(item => Task.Run(() => PrepareOne(preparer, item.Job, item.Number, cancellationToken))).ToArray();
                    Task.WaitAll(prepared, cancellationToken);
                    foreach (Task<(BatchImage Image, string? Note)> done in prepared)
                    {
                        if (done.Result.Note is string note && notes.Add(note.StartsWith("'", StringComparison.Ordinal) ? note : done.Result.Image.MediaType))
                        {
                            Warning?.Invoke(note);
                        }

                        list.WriteLine(done.Result.Image.ToLine());
                    }
                }

                list.Flush();
                stream.Flush(flushToDisk: true);
            }

            BatchFolder.WriteWhole(folder.ImagesDone, jobs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        private (BatchImage, string?) PrepareOne(ImagePreparer preparer, CaptionJob job, int number, CancellationToken cancellationToken)
        {
            var image = new BatchImage { Number = number, Path = job.Path, Hints = job.Hints };
            try
            {
                PreparedImage prepared = preparer.PrepareAsync(job.Path, cancellationToken).GetAwaiter().GetResult();
                image.Width = prepared.Width;
                image.Height = prepared.Height;
                image.OriginalWidth = prepared.OriginalWidth;
                image.OriginalHeight = prepared.OriginalHeight;
                image.Bytes = prepared.ByteCount;
                image.MediaType = prepared.MediaType;
                image.ClipSeconds = prepared.ClipSeconds;
                image.FrameSeconds = prepared.Frames.Select(f => f.Seconds).ToArray();
                image.FrameBytes = prepared.Frames.Select(f => f.Image.ByteCount).ToArray();

                BatchPrepared.Write(folder.PreparedFile(image), prepared);
                return (image, prepared.Note);
            }
            catch (CaptionException e)
            {
                image.Error = e;
                return (image, null);
            }
        }

        /// <summary>Runs the rounds from where the folder says the run is, until every image is finished or request files wait to be run.</summary>
        public BatchRunState Run(CancellationToken cancellationToken)
        {
            BatchRunState state;
            using (var answers = new BatchAnswers(folder.AnswersFile))
            {
                state = RunRounds(answers, cancellationToken);
            }

            if (state == BatchRunState.Finished)
            {
                folder.Remove(wholeFolder: !options.FilesOnly);
            }

            return state;
        }

        private BatchRunState RunRounds(BatchAnswers answers, CancellationToken cancellationToken)
        {
            List<BatchImage> images = BatchImageList.Read(folder.ImagesFile, options.BaseDirectory);
            HashSet<int> reported = folder.ReadReported();
            var byImage = new Dictionary<int, List<BatchConversation>>();
            var conversations = new List<BatchConversation>();
            string runId = folder.ReadRunId();
            foreach (BatchImage image in images.Where(i => i.Error is null))
            {
                var mine = Enumerable.Range(1, settings.CaptionsPerImage).Select(index => new BatchConversation(settings, answers, image, index) { RunId = runId }).ToList();
                byImage[image.Number] = mine;
                conversations.AddRange(mine);
            }

            ReportFinished(images, byImage, reported);
            var quirks = new EndpointQuirks(settings, settings.Model);
            int maxRounds = settings.Prompts.Count + settings.RetryRules.Count;
            for (int round = 1; conversations.Any(c => !c.Done); round++)
            {
                // Attempts that answered nothing count against max_retries; one that answered some does not, so a
                // round larger than the provider lets run at once (OpenAI's enqueued-token limit fails the batches past
                // it) or cut short by an expiry goes on as long as it gets somewhere.
                int fruitless = 0;
                for (int attempt = 1; ; attempt++)
                {
                    List<BatchConversation> targets = conversations.Where(c => !c.Done && c.TurnCount == round - 1).ToList();
                    if (targets.Count == 0)
                    {
                        break;
                    }

                    if (fruitless > settings.MaxRetries)
                    {
                        foreach (BatchConversation spent in targets)
                        {
                            spent.Error = spent.LastTransient ?? new CaptionException("BatchAnswerMissing", CaptionErrorCategory.ProtocolError, $"No batch answered the request for '{spent.Image.Path}'.");
                        }

                        break;
                    }

                    string where = $"Round {round} of at most {maxRounds}" + (attempt > 1 ? $", attempt {attempt}" : "");
                    string attemptFolder = folder.AttemptFolder(round, attempt);
                    EndpointQuirks sent = quirks.Snapshot();
                    IReadOnlyList<string> parts = BatchParts.Existing(attemptFolder);
                    if (parts.Count == 0)
                    {
                        parts = WriteParts(attemptFolder, targets, sent);
                        Verbose?.Invoke($"{where}: {targets.Count} requests in {parts.Count} file(s) in '{attemptFolder}'.");
                    }

                    if (parts.Count > 0 && !(options.FilesOnly ? OutputsPresent(parts, where) : Submission().SubmitAndWait(parts, where, cancellationToken)))
                    {
                        pendingImages = conversations.Where(c => !c.Done).Select(c => c.Image.Number).Distinct().Count();
                        return BatchRunState.Waiting;
                    }

                    Answers().Apply(parts, targets, quirks, sent);
                    fruitless = targets.Any(t => t.TurnCount == round || t.Error is not null) ? 0 : fruitless + 1;
                }

                ReportFinished(images, byImage, reported);
            }

            ReportFinished(images, byImage, reported);
            return BatchRunState.Finished;
        }

        /// <summary>Writes one attempt's requests, each conversation's next turn, in image order; an image past the file limit fails alone.</summary>
        private IReadOnlyList<string> WriteParts(string attemptFolder, List<BatchConversation> targets, EndpointQuirks sent)
        {
            var byId = targets.ToDictionary(t => t.CustomId, StringComparer.Ordinal);
            IEnumerable<(string, ReadOnlyMemory<byte>)> Requests()
            {
                PreparedImage? image = null;
                int imageNumber = 0;
                foreach (BatchConversation conversation in targets)
                {
                    if (conversation.Image.Number != imageNumber)
                    {
                        imageNumber = conversation.Image.Number;
                        image = LoadPrepared(conversation.Image);
                    }

                    yield return (conversation.CustomId, ChatRequestWriter.Write(settings, sent, conversation.NextMessages(systemText, image!), conversation.AsksSchema));
                }
            }

            return BatchParts.Write(attemptFolder, Requests(), options.MaxRequestsPerFile, options.MaxBytesPerFile, (id, size) =>
                byId[id].Error = new CaptionException("RequestTooLarge", CaptionErrorCategory.LimitsExceeded, $"The request for '{byId[id].Image.Path}' is {size} bytes, more than a batch file may hold ({options.MaxBytesPerFile} bytes); {ImagePreparationOptions.SmallerAdvice} or caption it live."));
        }

        private PreparedImage LoadPrepared(BatchImage image) => BatchPrepared.Load(folder.PreparedFile(image), image);

        // Made when first needed, with the callbacks the caller has set by then.
        private BatchAnswerReader Answers() => answerReader ??= new BatchAnswerReader(settings, shownUrl) { Verbose = Verbose, Warning = Warning };

        private BatchSubmission Submission() => submission ??= new BatchSubmission(service!, settings, options, shownUrl) { Verbose = Verbose, Warning = Warning, Progress = Progress };

        /// <summary>-BatchFiles: true when every part has its output beside it; else says what to run.</summary>
        private bool OutputsPresent(IReadOnlyList<string> parts, string where)
        {
            // An output of size 0 is never opened (a FIFO put there would block the open) and counts as not there.
            List<string> missing = parts.Where(p => RegularFile.Check(BatchParts.OutputPath(p), long.MaxValue) != RegularFile.Kind.Readable).ToList();
            if (missing.Count == 0)
            {
                return true;
            }

            foreach (string empty in missing.Select(BatchParts.OutputPath).Where(File.Exists))
            {
                Warning?.Invoke($"'{empty}' is empty or not a regular file; it is not read. Put the output file of its request file there.");
            }

            string commands = string.Join(Environment.NewLine, missing.Select(p => $"  python -m vllm.entrypoints.openai.run_batch -i '{p}' -o '{BatchParts.OutputPath(p)}' --model '{settings.Model}'"));
            Warning?.Invoke($"{where}: {missing.Count} request file(s) wait to be run. Run each with vLLM (or upload it to a batch API and save the output file as shown), then run this command again:{Environment.NewLine}{commands}");
            return false;
        }

        /// <summary>Reports, in image order, each image whose conversations have all ended and that no run has reported yet.</summary>
        private void ReportFinished(List<BatchImage> images, Dictionary<int, List<BatchConversation>> byImage, HashSet<int> reported)
        {
            foreach (BatchImage image in images)
            {
                if (reported.Contains(image.Number))
                {
                    continue;
                }

                CaptionEvent outcome;
                if (image.Error is CaptionException failed)
                {
                    outcome = CaptionEvent.Failed(image.Path, failed);
                }
                else
                {
                    List<BatchConversation> mine = byImage[image.Number];
                    if (!mine.All(c => c.Done))
                    {
                        continue;
                    }

                    outcome = mine.FirstOrDefault(c => c.Error is not null) is BatchConversation broken
                        ? CaptionEvent.Failed(image.Path, broken.Error!)
                        : Completed(image, mine);
                }

                foreach (string cut in outcome.Results.Select(CaptionResults.CutOffWarning).OfType<string>())
                {
                    Warning?.Invoke(cut);
                }

                Report?.Invoke(outcome);
                folder.AppendReported(image.Number);
                reported.Add(image.Number);
            }
        }

        private CaptionEvent Completed(BatchImage image, List<BatchConversation> mine)
        {
            var sent = image.FrameSeconds.Length > 0
                ? PreparedImage.Clip(image.FrameSeconds.Select(at => new Video.ClipFrame(new PreparedImage(Array.Empty<byte>(), image.MediaType, image.Width, image.Height, 0), at)).ToList(), image.ClipSeconds ?? 0, image.OriginalWidth, image.OriginalHeight)
                : new PreparedImage(Array.Empty<byte>(), image.MediaType, image.Width, image.Height, image.Bytes).WithOriginal(image.OriginalWidth, image.OriginalHeight);
            var results = new List<CaptionResult>();
            foreach (BatchConversation conversation in mine)
            {
                try
                {
                    results.Add(CaptionResults.From(image.Path, conversation.CaptionTurn!, conversation.Turns(), settings.Model, shownUrl, sent, 0, conversation.CaptionIndex, mine.Count, settings));
                }
                catch (CaptionException e)
                {
                    return CaptionEvent.Failed(image.Path, e);
                }
            }

            IReadOnlyList<string> history = Array.Empty<string>();
            if (settings.KeepHistory)
            {
                BatchConversation last = mine[mine.Count - 1];
                history = Enumerable.Range(1, last.TurnCount).Select(turns => ChatRequestWriter.WriteHistory(last.History(systemText, sent, turns))).ToList();
            }

            return CaptionEvent.Completed(results, history);
        }

        /// <summary>What the requests are built from, so a run that goes on with other settings is caught before it mixes two.</summary>
        private string Fingerprint()
        {
            var items = new SortedDictionary<string, object?>(StringComparer.Ordinal)
            {
                ["endpoint"] = options.FilesOnly ? "request files" : EndpointUrl.Display(settings.BaseUrl),
                ["request"] = System.Text.Encoding.UTF8.GetString(ChatRequestWriter.Write(settings, new EndpointQuirks(settings, settings.Model), Array.Empty<ChatMessage>()).ToArray()),
                ["system"] = systemText ?? "",
                ["prompts"] = settings.Prompts,
                ["retry_rules"] = settings.RetryRules.Select(r => new object[] { r.RuleName, r.Phrases, r.RejectionNote }).ToList(),
                ["captions_per_image"] = settings.CaptionsPerImage,
                ["shard"] = options.Shard ?? "",
                ["images"] = ConfigValues.Describe(imageOptions),
            };
            if (settings.Schema is not null)
            {
                // Only with a schema, so the fingerprint of a run without one stays what it was.
                items["json_schema"] = settings.Schema.Text;
                items["json_schema_turns"] = settings.SchemaEveryTurn ? "all" : "last";
            }

            return JsonSerializer.Serialize(items, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }

        private JsonDocument ReadSettings()
        {
            try
            {
                return JsonDocument.Parse(BatchFolder.ReadText(folder.SettingsFile, 1 << 20) ?? "");
            }
            catch (JsonException)
            {
                throw BatchFolder.Invalid(folder.SettingsFile, "is not the settings this module wrote");
            }
        }

        private void CheckSettings()
        {
            // Before the images were all listed nothing was submitted: preparation starts again with the settings of now.
            if (!File.Exists(folder.SettingsFile) || !File.Exists(folder.ImagesDone))
            {
                return;
            }

            using JsonDocument kept = ReadSettings();
            using JsonDocument now = JsonDocument.Parse(fingerprint);
            var differ = now.RootElement.EnumerateObject()
                .Where(p => !kept.RootElement.TryGetProperty(p.Name, out JsonElement old) || old.GetRawText() != p.Value.GetRawText())
                .Select(p => p.Name).ToList();
            if (differ.Count > 0)
            {
                IReadOnlyList<string> running = RunningBatches(options.Folder);
                string batches = running.Count == 0 ? "" : $" Its batches {string.Join(", ", running.Take(10))}{(running.Count > 10 ? $" and {running.Count - 10} more" : "")} may still run at the provider and cost: cancel them with Invoke-VlmCaptionRun -CancelBatch before the folder is removed.";
                throw new CaptionException("BatchSettingsChanged", CaptionErrorCategory.InvalidOperation, $"The batch run in '{options.Folder}' was started with other settings (changed: {string.Join(", ", differ)}), and its rounds were built from those. Finish it with the settings it started with, or remove the folder '{options.Folder}' to start again.{batches}");
            }
        }
    }
}
