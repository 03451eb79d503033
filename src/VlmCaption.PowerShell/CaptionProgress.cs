using System.Diagnostics;

namespace VlmCaption.PowerShell
{
    /// <summary>
    /// Counts outcomes and writes one progress bar: "N of M" and percent whenever the total is known, the rate and
    /// the ETA only once they mean something, the tokens streaming in, and one Completed record at the end.
    /// </summary>
    internal sealed class CaptionProgress : Run.IRunProgress
    {
        private const string Activity = "Captioning images";

        // A rate over less time than this, or fewer images, says more about start-up than about the run.
        private static readonly TimeSpan RateAfter = TimeSpan.FromSeconds(2);

        private readonly Cmdlet cmdlet;
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private int captioned;
        private int failed;
        private int skipped;
        private int truncated;
        private bool written;
        private string lastPath = "";
        private string? streamLine;
        private long lastTokens;
        private TimeSpan lastSample;
        private double? rate;

        public CaptionProgress(Cmdlet cmdlet) => this.cmdlet = cmdlet;

        /// <summary>Images expected in all, when known.</summary>
        public int? Total { get; set; }

        public void Captioned(string path) => Write(ref captioned, path);

        /// <summary>Counts an image whose caption hit the answer limit.</summary>
        public void Truncated(string path) => Write(ref truncated, path);

        public void Failed(string path) => Write(ref failed, path);

        public void Skipped(string path) => Write(ref skipped, path);

        /// <summary>Shows the tokens streamed so far and their rate over the last seconds, while images are in flight.</summary>
        public void Streaming(long tokens, int inFlight)
        {
            TimeSpan now = clock.Elapsed;
            if (tokens == lastTokens || inFlight == 0)
            {
                return;
            }

            double seconds = (now - lastSample).TotalSeconds;
            if (seconds >= 1)
            {
                rate = (tokens - lastTokens) / seconds;
                lastSample = now;
                lastTokens = tokens;
            }

            streamLine = $"{inFlight} in flight{(rate is double r ? $", {r:0} tokens/s" : $", {tokens} tokens")}";
            WriteRecord(lastPath);
        }

        /// <summary>Ends the bar, once, and only if one was shown.</summary>
        public void Complete()
        {
            if (!written)
            {
                return;
            }

            written = false;
            cmdlet.WriteProgress(new ProgressRecord(0, Activity, "Done") { RecordType = ProgressRecordType.Completed });
        }

        private void Write(ref int counter, string path)
        {
            counter++;
            lastPath = path;
            WriteRecord(path);
        }

        private void WriteRecord(string path)
        {
            int sent = captioned + failed + truncated;
            int processed = sent + skipped;
            TimeSpan elapsed = clock.Elapsed;
            double? perMinute = sent >= 2 && elapsed >= RateAfter ? sent / elapsed.TotalMinutes : null;
            // Short enough for one console line (PowerShell cuts the status at the window's width): counts that
            // are 0 are left out. Without a total (images from the pipeline) the time so far stands in for the
            // time left.
            string counts = $"{captioned} captioned{(failed > 0 ? $", {failed} failed" : "")}{(skipped > 0 ? $", {skipped} skipped" : "")}{(truncated > 0 ? $", {truncated} truncated" : "")}";
            string done = Total is int known ? $"{processed} of {known}" : $"{processed} in {Elapsed(elapsed)}";
            string streaming = streamLine is null ? "" : $" | {streamLine}";
            var record = new ProgressRecord(0, Activity, $"{done}: {counts}{(perMinute is double shown ? $", {shown:0.0}/min" : "")}{streaming}")
            {
                CurrentOperation = System.IO.Path.GetFileName(path),
            };
            if (Total is int total && total > 0)
            {
                record.PercentComplete = Math.Min(100, processed * 100 / total);
                if (perMinute is double rate)
                {
                    record.SecondsRemaining = (int)Math.Ceiling(Math.Max(0, total - processed) / rate * 60);
                }
            }

            cmdlet.WriteProgress(record);
            written = true;
        }

        private static string Elapsed(TimeSpan elapsed) =>
            elapsed.TotalHours >= 1 ? $"{(int)elapsed.TotalHours}h{elapsed.Minutes:00}m" : elapsed.TotalMinutes >= 1 ? $"{(int)elapsed.TotalMinutes}m{elapsed.Seconds:00}s" : $"{elapsed.Seconds}s";
    }
}
