using System;
using System.Collections.Generic;

namespace VlmCaption
{
    /// <summary>What a batch reports to the thread that drains it.</summary>
    public enum CaptionEventKind
    {
        /// <summary>A line of detail about an image in flight (for -Verbose).</summary>
        Message,

        /// <summary>An image was captioned; <see cref="CaptionEvent.Result"/> holds it.</summary>
        Completed,

        /// <summary>An image failed; <see cref="CaptionEvent.Error"/> says why.</summary>
        Failed,

        /// <summary>Something the whole run should hear once (a field an endpoint refused), for the warning stream.</summary>
        Warning,
    }

    /// <summary>One report from a <see cref="CaptionBatch"/>.</summary>
    public sealed class CaptionEvent
    {
        private CaptionEvent(CaptionEventKind kind, string path)
        {
            Kind = kind;
            Path = path;
        }

        /// <summary>What happened.</summary>
        public CaptionEventKind Kind { get; private set; }

        /// <summary>The image it is about.</summary>
        public string Path { get; private set; }

        /// <summary>The detail line of a Message.</summary>
        public string Text { get; private set; } = "";

        /// <summary>The (first) result of a Completed event.</summary>
        public CaptionResult? Result => Results.Count > 0 ? Results[0] : null;

        /// <summary>Every result of a Completed event: one per caption asked for (captions_per_image).</summary>
        public IReadOnlyList<CaptionResult> Results { get; private set; } = Array.Empty<CaptionResult>();

        /// <summary>The message list after each turn, as JSON without image data, when the settings keep it.</summary>
        public IReadOnlyList<string> History { get; private set; } = Array.Empty<string>();

        /// <summary>The failure of a Failed event.</summary>
        public CaptionException? Error { get; private set; }

        /// <summary>Run when the consumer takes the event: a failed image's endpoint place, given back only then.</summary>
        internal Action? OnTaken { get; set; }

        internal static CaptionEvent Warning(string text) => new CaptionEvent(CaptionEventKind.Warning, "") { Text = text };

        internal static CaptionEvent Message(string path, string text) => new CaptionEvent(CaptionEventKind.Message, path) { Text = text };

        internal static CaptionEvent Completed(IReadOnlyList<CaptionResult> results, IReadOnlyList<string> history) =>
            new CaptionEvent(CaptionEventKind.Completed, results[0].Path) { Results = results, History = history };

        internal static CaptionEvent Failed(string path, CaptionException error) => new CaptionEvent(CaptionEventKind.Failed, path) { Error = error };
    }
}
