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

        /// <summary>The result of a Completed event.</summary>
        public CaptionResult? Result { get; private set; }

        /// <summary>The message list after each turn, as JSON without image data, when the settings keep it.</summary>
        public IReadOnlyList<string> History { get; private set; } = Array.Empty<string>();

        /// <summary>The failure of a Failed event.</summary>
        public CaptionException? Error { get; private set; }

        internal static CaptionEvent Warning(string text) => new CaptionEvent(CaptionEventKind.Warning, "") { Text = text };

        internal static CaptionEvent Message(string path, string text) => new CaptionEvent(CaptionEventKind.Message, path) { Text = text };

        internal static CaptionEvent Completed(CaptionResult result, IReadOnlyList<string> history) =>
            new CaptionEvent(CaptionEventKind.Completed, result.Path) { Result = result, History = history };

        internal static CaptionEvent Failed(string path, CaptionException error) => new CaptionEvent(CaptionEventKind.Failed, path) { Error = error };
    }
}
