using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace VlmCaption.Output.Datasets
{
    /// <summary>The pieces the dataset formats share: JSON, TOML and CSV text, and the checks of names trainers confuse.</summary>
    internal static class DatasetText
    {
        private static readonly JavaScriptEncoder Relaxed = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

        /// <summary>A JSON object written by <paramref name="write"/>, on one line unless <paramref name="indented"/>.</summary>
        public static string Json(Action<Utf8JsonWriter> write, bool indented = false)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Relaxed, Indented = indented }))
            {
                json.WriteStartObject();
                write(json);
                json.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.ToArray());
        }

        /// <summary>The comment a dataset config begins with: who reads it, how its folders are laid out, and where relative paths start.</summary>
        public static StringBuilder ConfigHeader(string trainer, string layout, bool absolute, string root) =>
            new StringBuilder()
                .Append("# Dataset config for ").Append(trainer).Append(" --dataset_config, written by Export-VlmDataset.\n")
                .Append("# ").Append(layout).Append("; captions are read from the caption file beside each image.\n")
                .Append(absolute ? "" : $"# Paths are relative: start the trainer in '{root}'.\n");

        /// <summary>A TOML basic string (toml.io/en/v1.0.0#string): quotes, backslashes and control characters escaped.</summary>
        public static string Toml(string value)
        {
            var text = new StringBuilder("\"");
            foreach (char c in value)
            {
                text.Append(c switch
                {
                    '"' => "\\\"",
                    '\\' => "\\\\",
                    _ when c < 0x20 || c == 0x7F => "\\u" + ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture),
                    _ => c.ToString(),
                });
            }

            return text.Append('"').ToString();
        }

        /// <summary>An RFC 4180 field: quoted, its quotes doubled, when it holds a comma, quote or line break.</summary>
        public static string Csv(string field) =>
            field.IndexOfAny(new[] { ',', '"', '\n', '\r' }) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

        /// <summary>A few of the names, quoted, and how many more: for warnings about many images.</summary>
        public static string Few(IEnumerable<string> names, int shown = 3)
        {
            List<string> all = names.ToList();
            string list = string.Join(", ", all.Take(shown).Select(n => $"'{n}'"));
            return all.Count > shown ? $"{list} and {all.Count - shown} more" : list;
        }

        /// <summary>
        /// Images whose names differ only in their extension in one folder (a.jpg, a.png): every trainer reads both
        /// captions from one file (stem + caption extension), and caches named by stem collide.
        /// </summary>
        public static List<List<DatasetImage>> SameStem(IEnumerable<DatasetImage> images) =>
            images.GroupBy(i => Path.Combine(Path.GetDirectoryName(i.Path) ?? "", Path.GetFileNameWithoutExtension(i.Path)), StringComparer.OrdinalIgnoreCase)
                .Where(g => g.Count() > 1)
                .Select(g => g.ToList())
                .ToList();

        /// <summary>The images of a dataset config, by folder (the trainers read one folder a subset, not its subfolders), folders in the order met.</summary>
        public static List<IGrouping<string, DatasetImage>> ByFolder(IEnumerable<DatasetImage> images) =>
            images.GroupBy(i => Path.GetDirectoryName(i.Path) ?? "", StringComparer.Ordinal).ToList();

        /// <summary>
        /// Warns of images whose caption file beside them does not hold what the export was given, as
        /// <paramref name="reads"/> (the trainer's own reading of a caption file) sees it.
        /// </summary>
        public static void CheckCaptionFiles(DatasetPlan plan, IEnumerable<DatasetImage> images, string extension, string trainer, Func<string, string> reads)
        {
            var missing = new List<string>();
            var different = new List<string>();
            foreach (DatasetImage image in images)
            {
                string file = CaptionFile.PathFor(image.Path, extension);
                string? text;
                try
                {
                    text = CaptionFile.Read(file);
                }
                catch (CaptionException)
                {
                    text = null;
                }

                if (text is null)
                {
                    missing.Add(image.Path);
                }
                else if (reads(text) != reads(CaptionFile.JoinLines(image.Captions)))
                {
                    different.Add(image.Path);
                }
            }

            if (missing.Count > 0)
            {
                plan.Warnings.Add($"{missing.Count} images have no readable caption file ({extension}) beside them, which is where {trainer} reads captions: {Few(missing)}. Save the captions beside the images first (Save-VlmCaption without -Destination).");
            }

            if (different.Count > 0)
            {
                plan.Warnings.Add($"{different.Count} images have a caption file beside them that {trainer} reads differently from the caption given here: {Few(different)}. Save the captions first (Save-VlmCaption -Force), or export the format that carries the captions itself.");
            }
        }

        /// <summary>The warning for same-stem images in formats whose trainer reads caption files or caches by stem.</summary>
        public static void WarnSameStem(DatasetPlan plan, IEnumerable<DatasetImage> images, string what)
        {
            List<List<DatasetImage>> groups = SameStem(images);
            if (groups.Count > 0)
            {
                // One warning for all the sets, each named by its images.
                plan.Warnings.Add($"{groups.Count} set(s) of images differ only in their extension ({Few(groups.Select(g => string.Join("' and '", g.Select(i => i.Path))))}): {what} Rename all but one of each (Rename-Item), and caption the renamed ones again.");
            }
        }
    }
}
