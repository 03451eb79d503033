using System;
using System.Collections.Generic;
using System.Linq;
using VlmCaption.Output;

namespace VlmCaption.Run
{
    /// <summary>A run comparing several models (model: a list, -Model a, b): each model's captions apart, and what is left to ask.</summary>
    public sealed partial class FolderRun
    {
        /// <summary>
        /// Several models: each model's captions are written to its own file (or its jsonl lines) as soon as they are
        /// whole, whatever another model answered, so a rerun asks only the models that refused or were cut off. The
        /// image counts as captioned when every model asked wrote its caption; else as refused, or cut off.
        /// </summary>
        private IReadOnlyList<CaptionResult>? CompletedByEachModel(string image, IReadOnlyList<CaptionResult> results)
        {
            CaptionResult? problem = null;
            var written = new List<string>();
            foreach (IGrouping<string, CaptionResult> answers in results.GroupBy(r => r.Model, StringComparer.Ordinal))
            {
                if (answers.FirstOrDefault(r => r.Status == CaptionStatus.Refused) is CaptionResult refused)
                {
                    host.Warning($"{answers.Key}: {RefusalWarning(image, refused)}");
                    problem ??= refused;
                    continue;
                }

                if (answers.FirstOrDefault(r => r.Status == CaptionStatus.Truncated) is CaptionResult cut)
                {
                    host.Warning($"{answers.Key}: the caption of '{image}' was cut off by the answer limit ({Config.MaxTokens} tokens) and was not written; the next run asks this model again. Raise max_tokens.");
                    problem ??= cut;
                    continue;
                }

                try
                {
                    var texts = new List<string>();
                    foreach (CaptionResult result in answers)
                    {
                        rules.ApplyTo(result);
                        texts.Add(Config.Prefix + result.Caption + Config.Suffix);
                    }

                    Writer.Write(image, texts, Config.Existing, overwrite: true, answers.Key, promptField, Writer.Jsonl ? null : ModelCaptions.PathFor(Config, Placement, image, answers.Key), answers.Select(r => r.DataJson).ToList());
                    written.Add(answers.Key);
                }
                catch (CaptionException e)
                {
                    Failed(image, e);
                    return null;
                }
            }

            if (problem is null)
            {
                Tally.Succeeded(results[0], written);
                host.Progress.Captioned(image);
            }
            else
            {
                Tally.Written(written);
                if (problem.Status == CaptionStatus.Refused)
                {
                    Tally.Refused(problem);
                    host.Progress.Failed(image);
                }
                else
                {
                    Tally.Truncated(problem);
                    host.Progress.Truncated(image);
                }
            }

            ReleaseClaim(image);
            return results;
        }

        /// <summary>True (and counted as skipped) when <paramref name="model"/>'s caption of <paramref name="image"/> is there and a run skips what is captioned.</summary>
        public bool SkipsForModel(string image, string model)
        {
            if (!Config.SkipIfCaptionExists || Force || !ModelCaptions.Exists(Config, Placement, image, model))
            {
                return false;
            }

            Skipped(image, $"Skipping '{image}' for {model}: it has that model's caption.");
            return true;
        }

        /// <summary>With several models, the ones that have yet to caption <paramref name="image"/> (what a job asks); null with one model.</summary>
        public IReadOnlyList<string>? ModelsFor(string image) =>
            Config.Models.Length > 1 && Config.SkipIfCaptionExists && !Force ? ModelCaptions.Missing(Config, Placement, image, Model) : null;
    }
}
