using System;
using System.Diagnostics;
using System.Management.Automation;

namespace VlmCaption.PowerShell
{
    /// <summary>Counts outcomes and writes one progress bar: captioned, failed, skipped, truncated, images per minute and, when the total is known, the ETA.</summary>
    internal sealed class CaptionProgress
    {
        private const string Activity = "Captioning images";
        private readonly Cmdlet cmdlet;
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private int captioned;
        private int failed;
        private int skipped;
        private int truncated;

        public CaptionProgress(Cmdlet cmdlet) => this.cmdlet = cmdlet;

        /// <summary>Images expected in all, when known.</summary>
        public int? Total { get; set; }

        public void Captioned(string path) => Write(ref captioned, path);

        /// <summary>Counts an image whose caption hit the answer limit.</summary>
        public void Truncated(string path) => Write(ref truncated, path);

        public void Failed(string path) => Write(ref failed, path);

        public void Skipped(string path) => Write(ref skipped, path);

        public void Complete() =>
            cmdlet.WriteProgress(new ProgressRecord(0, Activity, "Done") { RecordType = ProgressRecordType.Completed });

        private void Write(ref int counter, string path)
        {
            counter++;
            int sent = captioned + failed + truncated;
            double minutes = clock.Elapsed.TotalMinutes;
            double perMinute = minutes > 0 ? sent / minutes : 0;
            var record = new ProgressRecord(0, Activity, $"{captioned} captioned, {failed} failed, {skipped} skipped{(truncated > 0 ? $", {truncated} truncated" : "")}, {perMinute:0.0} images/min")
            {
                CurrentOperation = System.IO.Path.GetFileName(path),
            };
            if (Total is int total && total > 0)
            {
                int processed = sent + skipped;
                record.PercentComplete = Math.Min(100, processed * 100 / total);
                if (perMinute > 0)
                {
                    record.SecondsRemaining = (int)Math.Ceiling((total - processed) / perMinute * 60);
                }
            }

            cmdlet.WriteProgress(record);
        }
    }
}
