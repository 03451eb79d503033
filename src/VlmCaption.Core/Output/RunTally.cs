using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace VlmCaption.Output
{
    /// <summary>Counts the outcomes of a run into a <see cref="RunSummary"/>.</summary>
    public sealed class RunTally
    {
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private readonly List<CaptionFailure> failures = new List<CaptionFailure>();
        private readonly RunSummary summary = new RunSummary();

        /// <summary>Creates a tally for a run over <paramref name="total"/> images.</summary>
        public RunTally(int total) => summary.Total = total;

        /// <summary>Counts an image whose captions were written: by <paramref name="models"/> (several compared), else by the result's model.</summary>
        public void Succeeded(CaptionResult result, IEnumerable<string>? models = null)
        {
            summary.Succeeded++;
            Written(models ?? new[] { result.Model });
            AddTokens(result);
        }

        /// <summary>Counts the images each of <paramref name="models"/> wrote a caption of (CaptionsByModel).</summary>
        public void Written(IEnumerable<string> models)
        {
            foreach (string model in models)
            {
                summary.CaptionsByModel[model] = summary.CaptionsByModel.TryGetValue(model, out int count) ? count + 1 : 1;
            }
        }

        /// <summary>Counts a caption cut off by the answer limit (not written).</summary>
        public void Truncated(CaptionResult result)
        {
            summary.Truncated++;
            AddTokens(result);
        }

        /// <summary>Counts an image whose caption the model refused (not written).</summary>
        public void Refused(CaptionResult result)
        {
            summary.Refused++;
            AddTokens(result);
        }

        /// <summary>Notes the images of a batch run that wait for request files to be run.</summary>
        public void Pending(int images) => summary.Pending = images;

        /// <summary>Counts an image skipped because it has a caption.</summary>
        public void Skipped() => summary.Skipped++;

        /// <summary>Counts a failed image.</summary>
        public void Failed(string path, string errorId, string message)
        {
            summary.Failed++;
            failures.Add(new CaptionFailure { Path = path, ErrorId = errorId, Message = message });
        }

        /// <summary>The summary as of now.</summary>
        public RunSummary ToSummary()
        {
            summary.Seconds = Math.Round(clock.Elapsed.TotalSeconds, 3);
            double minutes = clock.Elapsed.TotalMinutes;
            summary.ImagesPerMinute = minutes > 0 ? Math.Round((summary.Succeeded + summary.Truncated + summary.Failed) / minutes, 1) : 0;
            summary.Failures = failures.ToArray();
            return summary;
        }

        private void AddTokens(CaptionResult result)
        {
            summary.PromptTokens += result.PromptTokens ?? 0;
            summary.CompletionTokens += result.CompletionTokens ?? 0;
        }
    }
}
