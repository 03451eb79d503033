using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace VlmCaption.Output.Datasets
{
    /// <summary>
    /// kohya-ss/musubi-tuner (30c658c4). image_jsonl_file (src/musubi_tuner/dataset/datasources.py ~line 276): a line
    /// {"image_path", "caption"} an image, image_path opened as written, so a relative path resolves against the
    /// trainer's working folder. Caches (image_video_dataset.py ~lines 152 and 168) are named by the image's name
    /// without folder or extension, in one cache_directory a dataset: sub/x.png and other/x.png, or a.jpg and a.png,
    /// share a text-encoder cache and one caption silently wins. Dataset config (docs/dataset_config.md): [general]
    /// and [[datasets]] with image_directory (captions read whole from the caption file beside each image) and
    /// cache_directory, one a dataset. Video clips: video_jsonl_file (VideoJsonlDatasource, datasources.py ~line 583)
    /// takes lines {"video_path", "caption"}, and video_directory (VideoDirectoryDatasource, ~line 472) globs the
    /// clips of a folder and reads each caption file whole, stripped (~line 550); their caches are named as images'
    /// are, so the same-name rule holds for clips too, and a folder of images and clips becomes two datasets.
    /// </summary>
    internal static class MusubiFormat
    {
        /// <summary>The Musubi format: images in <paramref name="target"/>, clips in musubi_videos.jsonl beside it (or in the target when there are only clips).</summary>
        public static void PlanJsonl(DatasetPlan plan, string target, List<DatasetImage> images, bool absolute)
        {
            List<DatasetImage> clips = images.Where(i => Video.ClipExtensions.IsClip(i.Path)).ToList();
            List<DatasetImage> stills = images.Where(i => !Video.ClipExtensions.IsClip(i.Path)).ToList();
            if (clips.Count == 0 || stills.Count > 0)
            {
                PlanLines(plan, target, stills, absolute, "image_path");
            }

            if (clips.Count > 0)
            {
                PlanLines(plan, stills.Count > 0 ? Path.Combine(Path.GetDirectoryName(target) ?? ".", "musubi_videos.jsonl") : target, clips, absolute, "video_path");
            }
        }

        private static void PlanLines(DatasetPlan plan, string target, List<DatasetImage> images, bool absolute, string pathField)
        {
            var text = new StringBuilder();
            var cacheOwners = new Dictionary<string, DatasetImage>(StringComparer.OrdinalIgnoreCase);
            var leftOut = new List<(DatasetImage Image, DatasetImage Owner)>();
            var several = new List<string>();
            foreach (DatasetImage image in images)
            {
                string cacheName = Path.GetFileNameWithoutExtension(image.Path);
                if (cacheOwners.TryGetValue(cacheName, out DatasetImage? owner))
                {
                    leftOut.Add((image, owner));
                    continue;
                }

                cacheOwners[cacheName] = image;
                if (image.Captions.Count > 1)
                {
                    several.Add(image.Path);
                }

                text.Append(DatasetText.Json(json => { json.WriteString(pathField, image.Written(absolute)); json.WriteString("caption", CaptionFile.OneLine(image.Captions[0])); })).Append('\n');
            }

            if (leftOut.Count > 0)
            {
                // One warning for all: a dataset of numbered images in folders collides everywhere.
                string more = leftOut.Count > 1 ? $" and {leftOut.Count - 1} more images were" : " was";
                plan.Warnings.Add($"'{leftOut[0].Image.Path}'{more} left out: musubi-tuner names its caches by the image's name without folder or extension, which an image written before has too ({DatasetText.Few(leftOut.Select(p => $"{p.Image.Path}' as '{p.Owner.Path}"))}), so each would train on that image's caption. Rename them, or export each folder as a dataset of its own (MusubiToml gives each folder its own cache_directory).");
            }

            if (several.Count > 0)
            {
                plan.Warnings.Add($"{several.Count} images have several captions; musubi-tuner reads one an image, so only the first was written: {DatasetText.Few(several)}.");
            }

            if (!absolute)
            {
                plan.Warnings.Add("The image paths are relative to the dataset root: musubi-tuner opens them from its working folder, so start the trainer in the root, or export with -PathStyle Absolute.");
            }

            plan.Files.Add(new DatasetFile(target, text.ToString()));
        }

        public static void PlanConfig(DatasetPlan plan, string target, string root, List<DatasetImage> images, bool absolute, DatasetOptions options)
        {
            StringBuilder text = DatasetText.ConfigHeader("kohya-ss/musubi-tuner", "Each folder is a dataset with a cache folder of its own", absolute, root)
                .Append("[general]\n")
                .Append("resolution = [").Append(options.Resolution).Append(", ").Append(options.Resolution).Append("]\n")
                .Append("caption_extension = ").Append(DatasetText.Toml(options.CaptionExtension)).Append('\n')
                .Append("batch_size = 1\n")
                .Append("enable_bucket = true\n")
                .Append("bucket_no_upscale = false\n");
            int index = 0;
            foreach (IGrouping<string, DatasetImage> folder in DatasetText.ByFolder(images))
            {
                // musubi-tuner globs a folder's images and its clips apart: a folder with both is two datasets.
                foreach (bool clips in new[] { false, true })
                {
                    DatasetImage? first = folder.FirstOrDefault(i => Video.ClipExtensions.IsClip(i.Path) == clips);
                    if (first is null)
                    {
                        continue;
                    }

                    index++;
                    string name = Path.GetFileName(folder.Key.TrimEnd(Path.DirectorySeparatorChar)) + (clips ? "-clips" : "");
                    string cache = Path.Combine(root, "musubi_cache", $"{index:D2}-{name}");
                    string relativeCache = $"musubi_cache/{index:D2}-{name}";
                    text.Append("\n[[datasets]]\n")
                        .Append(clips ? "video_directory = " : "image_directory = ").Append(DatasetText.Toml(absolute ? folder.Key : KohyaFormat.RelativeFolder(first))).Append('\n')
                        .Append("cache_directory = ").Append(DatasetText.Toml(absolute ? cache : relativeCache)).Append('\n')
                        .Append("num_repeats = ").Append(options.NumRepeats).Append('\n');
                    if (clips)
                    {
                        // docs/dataset_config.md: frame counts of N*4+1 for HunyuanVideo and Wan; set them for the model trained.
                        text.Append("target_frames = [1, 25, 45]\n")
                            .Append("frame_extraction = \"head\"\n");
                    }
                }
            }

            plan.Files.Add(new DatasetFile(target, text.ToString()));
            DatasetText.WarnSameStem(plan, images, "musubi-tuner reads both captions from one caption file and gives both one cache.");

            // ImageDirectoryDatasource.get_caption (datasources.py ~line 245): the whole file, stripped.
            DatasetText.CheckCaptionFiles(plan, images, options.CaptionExtension, "musubi-tuner", t => t.Trim());
        }
    }
}
