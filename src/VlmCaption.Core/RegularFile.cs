using System;
using System.IO;
using System.Reflection;

namespace VlmCaption
{
    /// <summary>
    /// Reads files that a dataset may have crafted: only regular files, never more than a limit. Opening a FIFO
    /// blocks until something writes to it, and /dev/zero never ends; both (and sockets, devices and /proc
    /// files) report a size of 0, while a regular file worth reading has a size above 0. So the size is
    /// checked before anything is opened, and a file of size 0 is treated as empty without opening it.
    /// </summary>
    public static class RegularFile
    {
        /// <summary>What a check found.</summary>
        public enum Kind
        {
            /// <summary>No such file.</summary>
            Missing,

            /// <summary>Size 0: empty, or not a regular file (FIFO, device, socket); not opened.</summary>
            EmptyOrSpecial,

            /// <summary>Larger than the limit; not opened.</summary>
            TooLarge,

            /// <summary>A symbolic link to a file outside the folder it is in; not followed.</summary>
            LinkLeavesFolder,

            /// <summary>A regular file within the limit.</summary>
            Readable,
        }

        private static readonly PropertyInfo? LinkTarget = typeof(FileSystemInfo).GetProperty("LinkTarget");

        /// <summary>Looks at the file without opening it.</summary>
        /// <param name="path">The file.</param>
        /// <param name="maxBytes">The most that may be read.</param>
        /// <param name="stayInFolder">Refuse a symbolic link whose target is outside the file's own folder (sidecars).</param>
        public static Kind Check(string path, long maxBytes, bool stayInFolder = false)
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return Kind.Missing;
            }

            if (stayInFolder && (info.Attributes & FileAttributes.ReparsePoint) != 0 && !TargetIsInFolder(info))
            {
                return Kind.LinkLeavesFolder;
            }

            return info.Length == 0 ? Kind.EmptyOrSpecial : info.Length > maxBytes ? Kind.TooLarge : Kind.Readable;
        }

        /// <summary>Reads a file <see cref="Check"/> found readable, stopping at the limit should it have grown since.</summary>
        public static byte[] ReadAllBytes(string path, long maxBytes)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
            long length = Math.Min(stream.Length, maxBytes);
            var data = new byte[length];
            int offset = 0;
            while (offset < data.Length)
            {
                int read = stream.Read(data, offset, data.Length - offset);
                if (read == 0)
                {
                    Array.Resize(ref data, offset);
                    break;
                }

                offset += read;
            }

            return data;
        }

        // FileSystemInfo.LinkTarget exists on .NET 6 and later (PowerShell 7); Windows PowerShell 5.1 has no such
        // links in datasets worth the risk, so there a link is taken as leaving its folder.
        // The final target, through every link of a chain (a link in the folder to another that leaves it).
        private static bool TargetIsInFolder(FileInfo info)
        {
            string? resolved = null;
            if (ResolveLinkTarget is not null)
            {
                try
                {
                    resolved = (ResolveLinkTarget.Invoke(info, new object[] { true }) as FileSystemInfo)?.FullName;
                }
                catch (TargetInvocationException)
                {
                    // A loop of links, or one that cannot be read: not followed.
                    return false;
                }
            }
            else if (LinkTarget?.GetValue(info) is string target)
            {
                resolved = Path.GetFullPath(Path.Combine(info.DirectoryName ?? ".", target));
            }

            return resolved is not null && string.Equals(Path.GetDirectoryName(resolved), info.DirectoryName ?? ".", StringComparison.Ordinal);
        }

        private static readonly MethodInfo? ResolveLinkTarget = typeof(FileSystemInfo).GetMethod("ResolveLinkTarget", new[] { typeof(bool) });
    }
}
