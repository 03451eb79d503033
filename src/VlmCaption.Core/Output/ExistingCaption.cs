using System.Collections.Generic;

namespace VlmCaption.Output
{
    /// <summary>What becomes of the caption an image already has when a new one is written (caption.yaml's existing).</summary>
    public static class ExistingCaption
    {
        /// <summary>The modes: skip the image, overwrite the caption, or keep both, the new one after or before the old.</summary>
        public static readonly IReadOnlyList<string> Modes = new[] { "skip", "overwrite", "append", "prepend" };

        /// <summary>
        /// The text to write: for append and prepend the old caption and the new one on lines of their own (kohya's
        /// multi-caption mode reads each line as a caption); for the other modes, or without an old caption, the new one.
        /// </summary>
        public static string Combine(string? mode, string? old, string text) => mode switch
        {
            "append" when !string.IsNullOrEmpty(old) => old + "\n" + text,
            "prepend" when !string.IsNullOrEmpty(old) => text + "\n" + old,
            _ => text,
        };
    }
}
