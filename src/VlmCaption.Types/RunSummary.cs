using System;

namespace VlmCaption
{
    /// <summary>What an Invoke-VlmCaptionRun did, emitted once at its end.</summary>
    public sealed class RunSummary
    {
        /// <summary>Images found.</summary>
        public int Total { get; set; }

        /// <summary>Images captioned and written.</summary>
        public int Succeeded { get; set; }

        /// <summary>Images skipped because they already had a caption.</summary>
        public int Skipped { get; set; }

        /// <summary>Images that failed; see <see cref="Failures"/>.</summary>
        public int Failed { get; set; }

        /// <summary>Images whose caption hit the answer limit; not written, so the next run tries them again.</summary>
        public int Truncated { get; set; }

        /// <summary>Images captioned, by the model that wrote their captions (a fallback's show apart).</summary>
        public System.Collections.Generic.Dictionary<string, int> CaptionsByModel { get; set; } = new System.Collections.Generic.Dictionary<string, int>(System.StringComparer.Ordinal);

        /// <summary>Images whose caption the model refused to write (not saved; the next run asks again).</summary>
        public int Refused { get; set; }

        /// <summary>Images of a batch run still waiting for request files to be run (-BatchFiles); run again once their outputs are there.</summary>
        public int Pending { get; set; }

        /// <summary>Prompt tokens the server reported, summed.</summary>
        public long PromptTokens { get; set; }

        /// <summary>Completion tokens the server reported, summed.</summary>
        public long CompletionTokens { get; set; }

        /// <summary>Wall time of the run in seconds.</summary>
        public double Seconds { get; set; }

        /// <summary>Images captioned or failed per minute of wall time.</summary>
        public double ImagesPerMinute { get; set; }

        /// <summary>True when the run was stopped (Ctrl+C, the circuit breaker) before it went through every image.</summary>
        public bool Stopped { get; set; }

        /// <summary>Each failed image with its error.</summary>
        public CaptionFailure[] Failures { get; set; } = Array.Empty<CaptionFailure>();
    }
}
