using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using VlmCaption.Conversation;
using VlmCaption.Images;
using VlmCaption.Output;

namespace VlmCaption.Run
{
    /// <summary>
    /// A run over caption.yaml's base_directory, as the original tool makes it, without the requests: the walk,
    /// the shard, the same-stem check, the skip, the claims, the caption writer and the tally. Invoke-VlmCaptionRun
    /// gathers its parameters into a <see cref="CaptionConfig"/>, sends what <see cref="ImagesToCaption"/> yields
    /// (live through CaptionCommandBase, or in rounds through <see cref="FolderBatchRun"/>), and hands every finished
    /// image back to <see cref="Completed"/> or <see cref="Failed"/>. Everything is called on one thread.
    /// </summary>
    public sealed partial class FolderRun : IDisposable
    {
        private readonly RunHost host;
        private readonly PostProcessing rules;
        private readonly string promptField;
        private CaptionClaims? claims;
        private int wouldCaption;
        private bool inFallback;

        // Failures that are about the file, not the model: a second model would fail them the same way.
        private static readonly HashSet<string> FileFailures = new HashSet<string>(StringComparer.Ordinal)
        {
            "ImageDecodeFailed", "ImageReadFailed", "ImageTooLarge", "ClipDecodeFailed", "ClipHasNoVideo", "FfmpegNotFound",
            "CaptionPathConflict", "ClaimBlocked", "CaptionWriteFailed", "CaptionExists",
        };

        /// <summary>Checks the folders and lays out where captions go; throws <see cref="CaptionException"/> for a folder that cannot be.</summary>
        public FolderRun(CaptionConfig config, RunHost host, bool force, bool whatIf)
        {
            if (!Directory.Exists(config.BaseDirectory))
            {
                throw new CaptionException("BaseDirectoryNotFound", CaptionErrorCategory.ObjectNotFound, $"The folder of {config.Where("base_directory")}, '{config.BaseDirectory}', does not exist. Fix base_directory or pass -BaseDirectory.");
            }

            if (config.OutputDirectory is string output && File.Exists(output))
            {
                throw new CaptionException("OutputDirectoryIsFile", CaptionErrorCategory.InvalidArgument, $"The output folder of {config.Where("output_directory")}, '{output}', is a file. Name a folder (it is made if missing).");
            }

            if (config.Models.Length > 1 && config.Fallback is not null)
            {
                throw new CaptionException("InvalidConfig", CaptionErrorCategory.InvalidArgument, $"{config.Where("model")} lists {config.Models.Length} models to compare, and {config.Where("fallback")} names a fallback: a run does one or the other. Leave out the fallback, or name one model.");
            }

            Config = config;
            this.host = host;
            Force = force;
            WhatIf = whatIf;
            Model = config.Model;
            Placement = CaptionPlacement.For(config);
            Writer = CaptionWriter.For(config);

            // The walk cleans the image folders; an output folder's are cleaned as the writer first writes there.
            Writer.Leftovers = Placement.Destination is not null ? new LeftoverCleaner() : null;
            Writer.Removed = host.Verbose;
            Writer.Problem = host.Warning;
            rules = new PostProcessing(config);
            GlobalMetadata = config.GlobalMetadataFile is null ? null : Conversation.GlobalMetadata.Read(config.GlobalMetadataFile);
            promptField = JsonlCaptionFile.PromptField(config.Prompts);
            Action = (config.Models.Length > 1 ? $"Caption with {string.Join(", ", config.Models)}" : config.CaptionsPerImage > 1 ? $"Caption {config.CaptionsPerImage} times" : "Caption")
                + (rules.IsEmpty ? "" : $", then post-process ({rules.Describe()})")
                + (Placement.Destination is null ? "" : $", writing into '{Placement.Destination}'");
        }

        /// <summary>The configuration with the command line's overrides.</summary>
        public CaptionConfig Config { get; }

        /// <summary>Where captions go.</summary>
        public CaptionPlacement Placement { get; }

        /// <summary>The one caption writer.</summary>
        public CaptionWriter Writer { get; }

        /// <summary>-Force: caption again where a caption exists.</summary>
        public bool Force { get; }

        /// <summary>-WhatIf: nothing is written, sent or removed.</summary>
        public bool WhatIf { get; }

        /// <summary>What -WhatIf and -Confirm say is done to each image.</summary>
        public string Action { get; }

        /// <summary>global_metadata_file's text, read once; null for none.</summary>
        public string? GlobalMetadata { get; }

        /// <summary>The model: caption.yaml's, or the server's once asked (jsonl skips by model).</summary>
        public string Model { get; set; }

        /// <summary>The counts; made by <see cref="Find"/>, made again when a batch run goes on with its own list.</summary>
        public RunTally Tally { get; private set; } = new RunTally(0);

        /// <summary>
        /// jsonl skips by model, so the model must be asked of the server before the first check when no model is set;
        /// otherwise the server is asked only when some image needs it, and a run over a finished folder sends nothing.
        /// </summary>
        public bool NeedsModelFirst => Config.OutputFormat == "jsonl" && Config.SkipIfCaptionExists && !Force && Model.Length == 0 && !WhatIf && Config.BatchFiles is null;

        /// <summary>Walks base_directory (removing what stopped runs left, unless -WhatIf) and keeps this shard's part; starts the tally.</summary>
        public List<string> Find()
        {
            if (CaptionAffix.Problem(Config.Prefix, Config.Suffix) is string affix)
            {
                host.Warning(affix + " Set it so in caption.yaml.");
            }

            List<string> images = ImageWalker.Find(Config.BaseDirectory, Config.Recursive, (folder, why) => host.Warning($"'{folder}' {why}."), RemoveLeftover);
            host.Verbose($"Found {images.Count} images under '{Config.BaseDirectory}'{(Config.Recursive ? " and its subfolders" : "")}; captions go {Placement}.");
            if (images.Count == 0)
            {
                host.Warning($"There are no images in '{Config.BaseDirectory}'{(Config.Recursive ? " or its subfolders" : " (its subfolders are looked into with recursive: true or -Recurse)")}; nothing to caption.");
            }

            if (Config.Shard is string part)
            {
                // Each machine of n takes the images whose path below base_directory hashes to its part.
                Shard shard = Shard.Parse(part);
                int all = images.Count;
                images = images.Where(image => shard.Contains(RelativePath.Under(Config.BaseDirectory, image) ?? image)).ToList();
                host.Verbose($"Shard {shard}: {images.Count} of the {all} images.");
            }

            Restart(images.Count);
            return images;
        }

        /// <summary>Starts the counts again over <paramref name="total"/> images (a batch run going on with the list it keeps).</summary>
        public void Restart(int total)
        {
            Tally = new RunTally(total);
            host.Progress.Total = total;
        }

        /// <summary>
        /// The images of the list to caption, in order: each same-stem sibling fails, captioned ones are skipped,
        /// -WhatIf and -Confirm are asked; with <paramref name="claim"/>, each is claimed before it is yielded, so
        /// two runs over one folder never caption it twice.
        /// </summary>
        public IEnumerable<string> ImagesToCaption(IReadOnlyList<string> images, string action, bool claim)
        {
            var owners = new CaptionOwners();
            string? folderOfOwners = null;
            claims = claim && Config.SkipIfCaptionExists && !Force && !WhatIf ? new CaptionClaims() : null;
            foreach (string image in images)
            {
                if (Config.OutputFormat == "txt")
                {
                    // Same-stem images share a folder, and the walk lists a folder's files together.
                    string folder = Path.GetDirectoryName(image) ?? "";
                    if (folder != folderOfOwners)
                    {
                        owners.Clear();
                        folderOfOwners = folder;
                    }

                    if (!OwnsCaptionPath(image, owners))
                    {
                        continue;
                    }
                }

                if (!Force && HasCaption(image))
                {
                    Skipped(image, $"Skipping '{image}': it has a caption.");
                    if (WhatIf)
                    {
                        host.ShouldProcess(image, "Skip (it has a caption)");
                    }

                    continue;
                }

                if (!host.ShouldProcess(image, action))
                {
                    wouldCaption += WhatIf ? 1 : 0;
                    continue;
                }

                if (Claim(image))
                {
                    yield return image;
                }
            }

            if (WhatIf)
            {
                // A list of 2 000 "What if" lines needs its count at the end.
                host.Tell($"What if: {wouldCaption} of {images.Count} images would be captioned; {Tally.ToSummary().Skipped} have a caption and would be skipped.", false);
            }
        }

        /// <summary>
        /// Writes a captioned image (post-processed, with prefix and suffix, all its captions or none) and counts it;
        /// returns its results, or null when it was not written.
        /// </summary>
        public IReadOnlyList<CaptionResult>? Completed(CaptionEvent completed)
        {
            IReadOnlyList<CaptionResult> results = completed.Results;
            string image = completed.Path;
            if (Config.ChatHistoryDir is string historyFolder && ChatHistoryFolder.Write(historyFolder, completed.History) is string problem)
            {
                host.Warning(problem);
            }

            if (Config.Models.Length > 1)
            {
                return CompletedByEachModel(image, results);
            }

            CaptionResult? refused = results.FirstOrDefault(r => r.Status == CaptionStatus.Refused);
            if (refused is not null && Defer(image, refused.Caption))
            {
                return null;
            }

            if (refused is not null)
            {
                // A refusal is never a caption: nothing of the image is written, and the next run asks again.
                host.Warning(RefusalWarning(image, refused));
                Tally.Refused(refused);
                host.Progress.Failed(image);
            }
            else if (results.FirstOrDefault(r => r.Status == CaptionStatus.Truncated) is CaptionResult cut)
            {
                // An image is written whole or not at all: one cut-off caption of several holds back the rest too.
                host.Warning($"The caption of '{image}'{(cut.CaptionCount > 1 ? $" ({cut.CaptionIndex} of {cut.CaptionCount})" : "")} was cut off by the answer limit ({Config.MaxTokens} tokens) and was not written; the next run tries it again. Raise max_tokens.");
                Tally.Truncated(cut);
                host.Progress.Truncated(image);
            }
            else
            {
                try
                {
                    var texts = new List<string>(results.Count);
                    foreach (CaptionResult result in results)
                    {
                        rules.ApplyTo(result);
                        texts.Add(Config.Prefix + result.Caption + Config.Suffix);
                    }

                    // A jsonl line names the model that wrote it: the fallback's, for what the fallback captioned.
                    Writer.Write(image, texts, Config.Existing, overwrite: true, inFallback && Config.Fallback is CaptionConfig fallback ? fallback.Model : Model, promptField, data: results.Select(r => r.DataJson).ToList());
                }
                catch (CaptionException e)
                {
                    Failed(image, e);
                    return null;
                }

                Tally.Succeeded(results[0]);
                host.Progress.Captioned(image);
            }

            ReleaseClaim(image);
            return results;
        }

        /// <summary>Reports and counts a failed image, and lets its claim go; one a fallback may caption waits for it instead.</summary>
        public void Failed(string image, CaptionException error)
        {
            if (!FileFailures.Contains(error.ErrorId) && Defer(image, error.Message))
            {
                return;
            }

            ReleaseClaim(image);
            host.Error(image, error);
            Tally.Failed(image, error.ErrorId, error.Message);
            host.Progress.Failed(image);
        }

        /// <summary>The images waiting for the fallback model, in the order they were refused or failed, with why.</summary>
        public List<(string Image, string Why)> ForFallback { get; } = new List<(string, string)>();

        /// <summary>True when this run gives what the first model refused or failed on to the fallback (live runs; batch rounds do not).</summary>
        public bool FallbackEnabled { get; set; }

        /// <summary>From now on what finishes is final: the fallback model's answers are written, refused or failed as they are.</summary>
        public void StartFallback() => inFallback = true;

        /// <summary>Keeps an image for the fallback model, holding its claim; false when there is none or this is its answer.</summary>
        private bool Defer(string image, string why)
        {
            if (Config.Fallback is null || !FallbackEnabled || inFallback)
            {
                return false;
            }

            ForFallback.Add((image, why));
            host.Verbose($"'{image}' goes to the fallback model ({Config.Fallback.Model}): {why}");
            return true;
        }

        /// <summary>The summary as of now.</summary>
        public RunSummary Summary(bool stopped = false)
        {
            RunSummary summary = Tally.ToSummary();
            summary.Stopped = stopped;
            return summary;
        }

        /// <summary>The warning for a refused caption, for runs and Get-VlmCaption alike.</summary>
        public static string RefusalWarning(string image, CaptionResult refused) =>
            $"The model refused to caption '{image}'{(refused.CaptionCount > 1 ? $" ({refused.CaptionIndex} of {refused.CaptionCount})" : "")}: \"{Shorten(refused.Caption)}\". Nothing was saved. Try another model (a fallback), another prompt, or add words that open its captions to nothing; refusal_check: false (-NoRefusalCheck) takes every answer.";

        private static string Shorten(string text)
        {
            string line = CaptionFile.OneLine(text);
            return line.Length > 120 ? line.Substring(0, 120) + "…" : line;
        }

        /// <summary>The line a stopped run leaves with the host.</summary>
        public static string StoppedLine(RunSummary done) =>
            $"Stopped after {done.Succeeded + done.Failed + done.Skipped} of {done.Total} images: {done.Succeeded} captioned, {done.Failed} failed, {done.Skipped} skipped. Run the same command again to go on where it stopped.";

        /// <summary>Lets every claim still held go.</summary>
        public void Dispose()
        {
            claims?.Dispose();
            claims = null;
        }

        private void RemoveLeftover(string leftover)
        {
            // A run killed between writing a caption's temporary file and renaming it leaves that file.
            if (WhatIf)
            {
                return;
            }

            host.Verbose($"Removing '{leftover}', left by a run that was stopped while writing.");
            try
            {
                File.Delete(leftover);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                host.Warning($"Could not remove '{leftover}': {e.Message}");
            }
        }

        private void Skipped(string image, string why)
        {
            Tally.Skipped();
            host.Progress.Skipped(image);
            host.Verbose(why);
        }

        /// <summary>Claims the image for this run; false (counted as skipped) when another run is captioning it or has just captioned it.</summary>
        private bool Claim(string image)
        {
            if (claims is null)
            {
                return true;
            }

            // With an output folder the claims lie there too: the image share may be read-only.
            string mirrored = Placement.Mirror(image);
            Placement.EnsureFolder(mirrored);
            string? holder;
            try
            {
                holder = claims.TryClaim(mirrored);
            }
            catch (CaptionException e)
            {
                // Reported, never skipped in silence: something in the claim's place is no claim.
                Failed(image, e);
                return false;
            }

            if (holder is not null)
            {
                Skipped(image, $"Skipping '{image}': another run is captioning it ({holder}).");
                return false;
            }

            if (HasCaption(image))
            {
                // Captioned by another run between the check and the claim.
                claims.Release(mirrored);
                Skipped(image, $"Skipping '{image}': another run has just captioned it.");
                return false;
            }

            return true;
        }

        private void ReleaseClaim(string image) => claims?.Release(Placement.Mirror(image));

        /// <summary>For txt output, the first image of a caption file owns it; a same-stem sibling (a.jpg, a.png) fails instead of overwriting.</summary>
        private bool OwnsCaptionPath(string image, CaptionOwners owners)
        {
            if (owners.Claim(image, Placement.CaptionPath(image, Config.CaptionExtension)) is CaptionException conflict)
            {
                Failed(image, conflict);
                return false;
            }

            return true;
        }

        // jsonl skips by model: a line by the fallback model is the image's caption too.
        private bool HasCaption(string image) =>
            Config.SkipIfCaptionExists && (Config.Models.Length > 1
                ? ModelCaptions.Missing(Config, Placement, image, Model).Count == 0
                : CaptionFile.ExistsFor(Config, Placement, image, Model) || (Config.Fallback is CaptionConfig fallback && CaptionFile.ExistsFor(Config, Placement, image, fallback.Model)));
    }
}
