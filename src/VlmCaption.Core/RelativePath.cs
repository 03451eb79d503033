using System;
using System.IO;

namespace VlmCaption
{
    /// <summary>Paths below a folder (netstandard2.0 has no Path.GetRelativePath).</summary>
    public static class RelativePath
    {
        /// <summary>The path of <paramref name="path"/> below <paramref name="root"/>, with the system's separators; null when it is not below it.</summary>
        public static string? Under(string root, string path)
        {
            // Whole folder names are compared: /data/set2 is not below /data/set.
            string from = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) + Path.DirectorySeparatorChar;
            string to = Path.GetFullPath(path);
            StringComparison comparison = Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            return to.Length > from.Length && to.StartsWith(from, comparison) ? to.Substring(from.Length) : null;
        }
    }
}
