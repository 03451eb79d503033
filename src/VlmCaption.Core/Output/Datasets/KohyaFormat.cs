using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace VlmCaption.Output.Datasets
{
    /// <summary>
    /// kohya-ss/sd-scripts (48d368fa, library/train_util.py). Fine-tuning metadata (FineTuningDataset, ~line 2242):
    /// a JSON object keyed by image path; since v0.10.0 (c6bc632e, PR #2186) a relative key is joined to the
    /// subset's image_dir (train_data_dir) and opened as is, so it needs its extension, and an absolute key is
    /// opened as is, which v0.9.1 and earlier also did (they globbed key + extension only for other keys). A
    /// repeated key keeps the last value; image_size (width, height) spares reading every image; a caption's lines are
    /// alternatives only with enable_wildcard (process_caption, ~line 840). Dataset config (library/config_util.py):
    /// DreamBooth-style subsets read the caption file beside each image (read_caption, ~line 1946: its first line
    /// unless enable_wildcard), caption_extension defaults to ".caption", and glob_images reads one folder, not its subfolders.
    /// </summary>
    internal static class KohyaFormat
    {
        public static void PlanMetadata(DatasetPlan plan, string target, List<DatasetImage> images, bool absolute)
        {
            string text = DatasetText.Json(json =>
            {
                foreach (DatasetImage image in images)
                {
                    json.WriteStartObject(image.Written(absolute));
                    json.WriteString("caption", string.Join("\n", image.Captions.Select(CaptionFile.OneLine)));
                    if (image.Tags is { Count: > 0 } tags)
                    {
                        // FineTuningDataset (~line 2303) reads "tags" as text and joins it to the caption with the
                        // subset's caption_separator (to each line with enable_wildcard); one line, comma separated.
                        json.WriteString("tags", string.Join(", ", tags.Select(CaptionFile.OneLine)));
                    }

                    (int width, int height) = DatasetExport.Size(image.Path);
                    if (width > 0)
                    {
                        json.WriteStartArray("image_size");
                        json.WriteNumberValue(width);
                        json.WriteNumberValue(height);
                        json.WriteEndArray();
                    }

                    json.WriteEndObject();
                }
            }, indented: true) + "\n";
            plan.Files.Add(new DatasetFile(target, text));

            var several = images.Where(i => i.Captions.Count > 1).ToList();
            if (several.Count > 0)
            {
                plan.Warnings.Add($"{several.Count} images have several captions, written one a line: sd-scripts draws one line a step only with enable_wildcard = true in the dataset config (--enable_wildcard); without it the lines are one caption. {DatasetText.Few(several.Select(i => i.Path))}");
            }

            DatasetText.WarnSameStem(plan, images, "sd-scripts names their latent caches (cache_latents_to_disk) by the name without extension, so images of one size share one cache.");
        }

        public static void PlanConfig(DatasetPlan plan, string target, string root, List<DatasetImage> images, bool absolute, DatasetOptions options)
        {
            StringBuilder text = DatasetText.ConfigHeader("kohya-ss/sd-scripts (train_network.py)", "Each folder is a subset", absolute, root)
                .Append("[general]\n")
                .Append("caption_extension = ").Append(DatasetText.Toml(options.CaptionExtension)).Append('\n')
                .Append("enable_bucket = true\n\n")
                .Append("[[datasets]]\n")
                .Append("resolution = ").Append(options.Resolution).Append('\n')
                .Append("batch_size = 1\n");
            foreach (IGrouping<string, DatasetImage> folder in DatasetText.ByFolder(images))
            {
                string path = absolute ? folder.Key : RelativeFolder(folder.First());
                text.Append("\n  [[datasets.subsets]]\n")
                    .Append("  image_dir = ").Append(DatasetText.Toml(path)).Append('\n')
                    .Append("  num_repeats = ").Append(options.NumRepeats).Append('\n');
            }

            plan.Files.Add(new DatasetFile(target, text.ToString()));
            DatasetText.WarnSameStem(plan, images, "sd-scripts reads both captions from one caption file.");

            // read_caption without enable_wildcard: the first line, stripped.
            DatasetText.CheckCaptionFiles(plan, images, options.CaptionExtension, "sd-scripts", text2 => text2.Split('\n')[0].Trim());
        }

        /// <summary>The folder of an image relative to the root ("." for the root itself).</summary>
        internal static string RelativeFolder(DatasetImage image)
        {
            int slash = image.Relative!.LastIndexOf('/');
            return slash < 0 ? "." : image.Relative.Substring(0, slash);
        }
    }
}
