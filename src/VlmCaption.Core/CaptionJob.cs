using System;
using System.Collections.Generic;

namespace VlmCaption
{
    /// <summary>One image to caption, with the hint texts already computed for it.</summary>
    public sealed class CaptionJob
    {
        /// <summary>Creates a job for the image at an absolute path.</summary>
        public CaptionJob(string path, IReadOnlyList<string>? hints = null)
        {
            Path = path;
            Hints = hints ?? Array.Empty<string>();
        }

        /// <summary>Absolute path of the image.</summary>
        public string Path { get; }

        /// <summary>Hint texts in order, each ending in a newline.</summary>
        public IReadOnlyList<string> Hints { get; }

        /// <summary>With several models, the ones to ask (those without the image's caption yet); null: every model.</summary>
        public IReadOnlyList<string>? Models { get; init; }
    }
}
