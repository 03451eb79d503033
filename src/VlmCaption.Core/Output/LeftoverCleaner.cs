using System;
using System.Collections.Generic;
using System.IO;

namespace VlmCaption.Output
{
    /// <summary>
    /// Removes, once per folder, the temporary files that a killed write left behind (ours, and old enough that
    /// no write can still be using them): for folders a walk does not visit, such as an output folder.
    /// </summary>
    public sealed class LeftoverCleaner
    {
        private readonly HashSet<string> cleaned = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Cleans <paramref name="folder"/> the first time it is named; what was removed goes to <paramref name="removed"/>, what could not to <paramref name="problem"/>.</summary>
        public void RemoveOnce(string folder, Action<string> removed, Action<string> problem)
        {
            if (!cleaned.Add(folder) || !Directory.Exists(folder))
            {
                return;
            }

            try
            {
                foreach (string file in Directory.EnumerateFiles(folder, ".vlmcaption-*.tmp"))
                {
                    if (CaptionFile.IsLeftover(file))
                    {
                        removed($"Removing '{file}', left by a write that was stopped.");
                        File.Delete(file);
                    }
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                problem($"Could not remove leftovers in '{folder}': {e.Message}");
            }
        }
    }
}
