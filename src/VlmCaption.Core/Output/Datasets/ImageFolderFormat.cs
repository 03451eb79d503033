using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace VlmCaption.Output.Datasets
{
    /// <summary>
    /// Hugging Face datasets' imagefolder (huggingface/datasets b7cb10b0,
    /// src/datasets/packaged_modules/folder_based_builder/folder_based_builder.py): metadata.jsonl or metadata.csv
    /// with a file_name column relative to the metadata file's folder (no '..', no absolute path, no '://'), one row
    /// an example, so an image with several captions is several rows; diffusers' training examples read the text
    /// column. Two metadata files of different extensions in one tree are an error.
    /// </summary>
    internal static class ImageFolderFormat
    {
        // src/datasets/data_files.py lines 43-71 (fsspec 2023.12 or later): a file whose name begins with a split
        // keyword followed by a separator, or holds one between separators, belongs to that split; so does
        // everything below a folder named like that. Once any file matches, load_dataset takes only the split files.
        private static readonly string[] Keywords = { "train", "training", "validation", "valid", "dev", "val", "test", "testing", "eval", "evaluation" };
        private const string Separator = "[-._ 0-9]";

        /// <summary>The split word in a path relative to the dataset's root that makes load_dataset see a split, or null.</summary>
        public static string? SplitWord(string relative)
        {
            string[] parts = relative.Split('/');
            for (int i = 0; i < parts.Length; i++)
            {
                foreach (string keyword in Keywords)
                {
                    // Files: "{keyword}[sep]*" and "*[sep]{keyword}[sep]*"; folders also end with the keyword.
                    string end = i == parts.Length - 1 ? Separator : $"({Separator}|$)";
                    if (Regex.IsMatch(parts[i], $"(^|{Separator}){keyword}{end}", RegexOptions.CultureInvariant))
                    {
                        return keyword;
                    }
                }
            }

            return null;
        }

        public static void Plan(DatasetPlan plan, bool csv, string root, string target, List<DatasetImage> images)
        {
            var text = new StringBuilder(csv ? "file_name,text\n" : "");
            foreach (DatasetImage image in images)
            {
                foreach (string caption in image.Captions)
                {
                    text.Append(csv
                        ? DatasetText.Csv(image.Relative!) + "," + DatasetText.Csv(caption) + "\n"
                        : DatasetText.Json(json => { json.WriteString("file_name", image.Relative); json.WriteString("text", caption); }) + "\n");
                }
            }

            plan.Files.Add(new DatasetFile(target, text.ToString()));

            var split = images.Where(i => SplitWord(i.Relative!) is not null).ToList();
            if (split.Count > 0)
            {
                plan.Warnings.Add($"{split.Count} images have a name or folder that Hugging Face's load_dataset takes for a split ('{SplitWord(split[0].Relative!)}'): {DatasetText.Few(split.Select(i => i.Relative!))}. It then loads only the files of those splits, and without the root metadata file. Rename them, or pass load_dataset data_files.");
            }

            string folder = Path.GetDirectoryName(target) ?? root;
            if (!string.Equals(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar), root.TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal)
                || !Path.GetFileName(target).StartsWith("metadata.", StringComparison.Ordinal))
            {
                plan.Warnings.Add($"'{target}' is not a metadata.{(csv ? "csv" : "jsonl")} in the dataset root '{root}', where imagefolder looks for it, and its file_name paths are relative to the root.");
            }

            foreach (string other in new[] { "metadata.jsonl", "metadata.csv", "metadata.parquet" })
            {
                string path = Path.Combine(root, other);
                if (!string.Equals(path, target, StringComparison.Ordinal) && File.Exists(path))
                {
                    plan.Warnings.Add($"'{path}' is in the dataset too: load_dataset stops when one tree holds metadata files of two extensions. Remove one.");
                }
            }
        }
    }
}
