using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace VlmCaption.Output.Datasets
{
    /// <summary>
    /// tdrussell/diffusion-pipe (8f83dbf2, utils/dataset.py ~lines 620-700): a folder's captions.json maps each file's
    /// name (with its extension) to a list of captions, one drawn a step; when it exists, the folder's .txt files are
    /// not read at all. Every file of the folder but .txt, .npz, .json, .parquet, .bak and .db is taken for an image
    /// or a video, and the folder's subfolders are not read.
    /// </summary>
    internal static class DiffusionPipeFormat
    {
        public const string FileName = "captions.json";

        private static readonly string[] Skipped = { ".txt", ".npz", ".json", ".parquet", ".bak", ".db" };

        public static void Plan(DatasetPlan plan, List<DatasetImage> images)
        {
            foreach (IGrouping<string, DatasetImage> folder in DatasetText.ByFolder(images))
            {
                var exported = new HashSet<string>(folder.Select(i => Path.GetFileName(i.Path)), StringComparer.Ordinal);
                string text = DatasetText.Json(json =>
                {
                    foreach (DatasetImage image in folder)
                    {
                        json.WriteStartArray(Path.GetFileName(image.Path));
                        foreach (string caption in image.Captions)
                        {
                            json.WriteStringValue(CaptionFile.OneLine(caption));
                        }

                        json.WriteEndArray();
                    }
                }, indented: true) + "\n";
                plan.Files.Add(new DatasetFile(Path.Combine(folder.Key, FileName), text));

                var uncaptioned = new List<string>();
                var notImages = new List<string>();
                foreach (string file in Directory.EnumerateFiles(folder.Key))
                {
                    string name = Path.GetFileName(file);
                    if (exported.Contains(name) || name == FileName || Skipped.Contains(Path.GetExtension(name)))
                    {
                        continue;
                    }

                    (Images.ImageExtensions.IsImage(name) ? uncaptioned : notImages).Add(name);
                }

                if (uncaptioned.Count > 0)
                {
                    plan.Warnings.Add($"'{folder.Key}' has {uncaptioned.Count} images that are not in the export ({DatasetText.Few(uncaptioned)}); with a captions.json there, diffusion-pipe reads no .txt file of that folder and trains them with no caption.");
                }

                if (notImages.Count > 0)
                {
                    plan.Warnings.Add($"'{folder.Key}' holds files diffusion-pipe will take for images or videos and fail on: {DatasetText.Few(notImages)}. Move them out of the folder.");
                }
            }
        }
    }
}
