using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace VlmCaption.Images
{
    /// <summary>Finds the images under a folder in a stable order: files by name, then subfolders by name.</summary>
    public static class ImageWalker
    {
        /// <summary>
        /// The images in <paramref name="folder"/> and, when <paramref name="recursive"/>, below it. Linked folders
        /// are not entered, so a link loop cannot make the walk endless; each one is reported to <paramref name="skipped"/>,
        /// as is a folder that cannot be read. Temporary caption files that a killed run left behind go to
        /// <paramref name="leftovers"/>, found in the same pass over each folder.
        /// </summary>
        public static List<string> Find(string folder, bool recursive, Action<string, string>? skipped = null, Action<string>? leftovers = null)
        {
            var images = new List<string>();
            var pending = new Stack<string>();
            pending.Push(folder);
            while (pending.Count > 0)
            {
                string current = pending.Pop();
                string[] files, folders;
                try
                {
                    files = Directory.GetFiles(current);
                    folders = recursive ? Directory.GetDirectories(current) : Array.Empty<string>();
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    skipped?.Invoke(current, $"cannot be read: {e.Message}");
                    continue;
                }

                images.AddRange(files.Where(ImageExtensions.IsImage).OrderBy(f => f, StringComparer.Ordinal));
                if (leftovers is not null)
                {
                    foreach (string file in files.Where(Output.CaptionFile.IsLeftover))
                    {
                        leftovers(file);
                    }
                }

                // Pushed in reverse so that subfolders are walked in name order.
                foreach (string sub in folders.OrderByDescending(f => f, StringComparer.Ordinal))
                {
                    if (Path.GetFileName(sub).StartsWith(Batch.BatchFolder.DefaultName, StringComparison.Ordinal))
                    {
                        // A batch run's state (one a shard): its request files are not images of the set.
                        continue;
                    }

                    FileAttributes attributes;
                    try
                    {
                        attributes = File.GetAttributes(sub);
                    }
                    catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                    {
                        // Gone since it was listed (a folder deleted during the walk, a process's /proc entry).
                        skipped?.Invoke(sub, $"cannot be read: {e.Message}");
                        continue;
                    }

                    if ((attributes & FileAttributes.ReparsePoint) != 0)
                    {
                        skipped?.Invoke(sub, "is a link to another folder and is not followed");
                        continue;
                    }

                    pending.Push(sub);
                }
            }

            return images;
        }
    }
}
