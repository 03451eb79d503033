using System;

namespace VlmCaption.Run
{
    /// <summary>How a run's counts reach a progress bar; the PowerShell layer's bar implements it.</summary>
    public interface IRunProgress
    {
        /// <summary>Images expected in all, when known.</summary>
        int? Total { get; set; }

        /// <summary>An image whose captions were written.</summary>
        void Captioned(string path);

        /// <summary>An image whose caption hit the answer limit.</summary>
        void Truncated(string path);

        /// <summary>An image that failed.</summary>
        void Failed(string path);

        /// <summary>An image passed over: it has a caption, or another run holds it.</summary>
        void Skipped(string path);

        /// <summary>Ends the bar.</summary>
        void Complete();
    }

    /// <summary>
    /// What a <see cref="FolderRun"/> needs from whoever runs it, as delegates: the lines it writes, the questions
    /// it asks (-WhatIf, -Confirm) and the errors it reports. Core knows no PowerShell; the cmdlet fills these in
    /// with its own Write* methods, which must be called on the pipeline thread, as the run is.
    /// </summary>
    public sealed class RunHost
    {
        /// <summary>A verbose line.</summary>
        public Action<string> Verbose { get; set; } = _ => { };

        /// <summary>A warning.</summary>
        public Action<string> Warning { get; set; } = _ => { };

        /// <summary>A line for the host itself, outside the output (the -WhatIf count, a stopped run's counts).</summary>
        public Action<string, bool> Tell { get; set; } = (_, _) => { };

        /// <summary>An image's error: (image path, error).</summary>
        public Action<string, CaptionException> Error { get; set; } = (_, _) => { };

        /// <summary>ShouldProcess(target, action): false when -WhatIf or -Confirm says no.</summary>
        public Func<string, string, bool> ShouldProcess { get; set; } = (_, _) => true;

        /// <summary>A batch run's own progress line: (status, percent).</summary>
        public Action<string, int> BatchProgress { get; set; } = (_, _) => { };

        /// <summary>Ends the batch run's progress line.</summary>
        public Action BatchProgressDone { get; set; } = () => { };

        /// <summary>The progress bar of images.</summary>
        public IRunProgress Progress { get; set; } = null!;
    }
}
