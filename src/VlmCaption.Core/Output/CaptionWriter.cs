using System;
using System.Collections.Generic;
using System.Linq;

namespace VlmCaption.Output
{
    /// <summary>
    /// Writes an image's captions where they belong: a caption file (one caption a line, atomically, keeping,
    /// appending or prepending to what is there) or lines of the image's jsonl file. The one writer of caption files,
    /// for folder runs, batch rounds and Save-VlmCaption, so a rule about caption files is made once.
    /// </summary>
    public sealed class CaptionWriter
    {
        private readonly CaptionPlacement placement;

        /// <summary>A writer of caption files with <paramref name="extension"/> (or jsonl lines) placed by <paramref name="placement"/>.</summary>
        public CaptionWriter(CaptionPlacement placement, string extension, bool jsonl, bool keepLineBreaks)
        {
            this.placement = placement;
            Extension = extension;
            Jsonl = jsonl;
            KeepLineBreaks = keepLineBreaks;
        }

        /// <summary>The writer a caption.yaml describes.</summary>
        public static CaptionWriter For(CaptionConfig config) =>
            new CaptionWriter(CaptionPlacement.For(config), config.CaptionExtension, config.OutputFormat == "jsonl", config.KeepLineBreaks);

        /// <summary>The caption file's extension, such as ".txt".</summary>
        public string Extension { get; }

        /// <summary>True when captions are appended to the image's jsonl file.</summary>
        public bool Jsonl { get; }

        /// <summary>True when an image's one caption keeps the model's line breaks.</summary>
        public bool KeepLineBreaks { get; }

        /// <summary>The file the image's captions go to.</summary>
        public string Target(string image) => Jsonl ? placement.JsonlPath(image) : placement.CaptionPath(image, Extension);

        /// <summary>
        /// Removes a killed write's temporary files from a caption folder the first time this writer writes there
        /// (shared by the writers of one command); null: the folder walk has done it.
        /// </summary>
        public LeftoverCleaner? Leftovers { get; set; }

        /// <summary>Told what was removed; and what could not be.</summary>
        public Action<string>? Removed { get; set; }

        /// <summary>Told a leftover that could not be removed.</summary>
        public Action<string>? Problem { get; set; }

        /// <summary>The text a caption file holds for these captions.</summary>
        public string Text(IReadOnlyList<string> captions) => CaptionFile.JoinLines(captions, KeepLineBreaks);

        /// <summary>
        /// Writes <paramref name="captions"/> of <paramref name="image"/> to <paramref name="target"/> (by default
        /// <see cref="Target"/>). <paramref name="existing"/> (append, prepend) keeps what the file holds on lines of its
        /// own; otherwise a file that exists is replaced only when <paramref name="overwrite"/>. Jsonl lines name
        /// <paramref name="model"/> and <paramref name="promptField"/>, and are added to a file that has a line of that
        /// model and prompts only when <paramref name="overwrite"/>. Throws <see cref="CaptionException"/> (CaptionExists).
        /// </summary>
        public void Write(string image, IReadOnlyList<string> captions, string? existing, bool overwrite, string model, string promptField, string? target = null, IReadOnlyList<string?>? data = null)
        {
            target ??= Target(image);
            placement.EnsureFolder(target);
            bool structured = data is not null && data.Any(item => item is not null);
            if (Jsonl)
            {
                string mirrored = placement.Mirror(image);
                if (!overwrite && JsonlCaptionFile.HasCaption(mirrored, model, promptField))
                {
                    throw new CaptionException("CaptionExists", CaptionErrorCategory.WriteError, $"'{JsonlCaptionFile.PathFor(mirrored)}' already has a caption by '{model}' for these prompts. Use -Force to add another.");
                }

                JsonlCaptionFile.Append(mirrored, captions, model, promptField, structured ? data : null);
                return;
            }

            bool replaces = overwrite || existing is "overwrite" or "append" or "prepend";
            if (structured && (replaces || !System.IO.File.Exists(target)))
            {
                // The object first: a stop between the two leaves no caption, so the next run asks again and
                // writes both; an image's several objects go as a list, in the order of its caption lines.
                string objects = data!.Count == 1 ? data[0]! : "[" + string.Join(",", data.Select(item => item ?? "null")) + "]";
                CaptionFile.WriteAtomic(Structured.StructuredCaption.DataPath(target), objects, overwrite: true);
            }

            Leftovers?.RemoveOnce(System.IO.Path.GetDirectoryName(target) ?? ".", Removed ?? (_ => { }), Problem ?? (_ => { }));
            string? old = existing is "append" or "prepend" ? CaptionFile.Read(target) : null;
            string text = ExistingCaption.Combine(existing, old, Text(captions));
            if (replaces && HoldsAlready(target, text))
            {
                // Unchanged: the file stays as it is, byte for byte, whatever its encoding (UTF-16, stray bytes
                // read as U+FFFD), its line ends or its trailing newline.
                return;
            }

            CaptionFile.WriteAtomic(target, text, overwrite: replaces);
        }

        /// <summary>True when the file at <paramref name="target"/> reads as <paramref name="text"/> already.</summary>
        private static bool HoldsAlready(string target, string text)
        {
            try
            {
                return CaptionFile.Read(target) is string held && held.Replace("\r\n", "\n") == text;
            }
            catch (CaptionException)
            {
                return false;
            }
        }
    }
}
