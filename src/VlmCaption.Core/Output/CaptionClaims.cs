using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace VlmCaption.Output
{
    /// <summary>
    /// Claims on images, so that runs over one folder at once (a second machine on the same share, a run started
    /// twice) never caption an image twice. A claim is a file created exclusively beside the image, holding the
    /// host, the process and the time. A claim is stale, and may be taken over, when its process is gone from this
    /// host or it is older than <see cref="StaleAfter"/> (a run killed on another machine). Claims are let go when
    /// the image is done or the run stops.
    /// </summary>
    public sealed class CaptionClaims : IDisposable
    {
        /// <summary>How long a claim from another host holds without being let go.</summary>
        public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(2);

        private const string Prefix = ".vlmcaption-claim-";
        private static readonly string Host = Environment.MachineName;
        private static readonly int Process = System.Diagnostics.Process.GetCurrentProcess().Id;

        private readonly HashSet<string> held = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>The claim file of an image: short, whatever the image's name.</summary>
        public static string PathFor(string imagePath)
        {
            using var sha = SHA256.Create();
            byte[] hash = sha.ComputeHash(Encoding.UTF8.GetBytes(Path.GetFileName(imagePath)));
            return Path.Combine(Path.GetDirectoryName(imagePath) ?? ".", Prefix + BitConverter.ToString(hash, 0, 8).Replace("-", "").ToLowerInvariant());
        }

        /// <summary>
        /// Claims the image; null when claimed, else who holds it ("host, process 123, since ..."). Throws
        /// <see cref="CaptionException"/> (ClaimBlocked) when something that is no claim is in the claim's place.
        /// </summary>
        public string? TryClaim(string imagePath)
        {
            string claim = PathFor(imagePath);
            byte[] text = Encoding.UTF8.GetBytes($"{Host}\n{Process}\n{DateTime.UtcNow:O}\n{Path.GetFileName(imagePath)}\n");
            for (int attempt = 0; attempt < 2; attempt++)
            {
                // Written whole to a temporary file, then moved into place only if no claim is there (a link on
                // Unix, MoveFileEx on Windows): a run killed while claiming never leaves an empty claim that
                // would hold the image back from the next run.
                string temporary = CaptionFile.TemporaryPathIn(Path.GetDirectoryName(claim) ?? ".");
                try
                {
                    File.WriteAllBytes(temporary, text);
                    if (PlaceNew(temporary, claim))
                    {
                        held.Add(claim);
                        return null;
                    }

                    string? holder = LiveHolder(claim);
                    if (holder is not null)
                    {
                        return holder;
                    }

                    // Stale: a killed run's. Taken over; if another run takes it first, placing says so.
                    TryDelete(claim);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    TryDelete(temporary);
                    throw;
                }
            }

            return "another run";
        }

        /// <summary>Lets the claim on an image go, once it is captioned, failed or skipped.</summary>
        public void Release(string imagePath)
        {
            string claim = PathFor(imagePath);
            if (held.Remove(claim))
            {
                TryDelete(claim);
            }
        }

        /// <summary>Lets every claim of this run go.</summary>
        public void Dispose()
        {
            foreach (string claim in held)
            {
                TryDelete(claim);
            }

            held.Clear();
        }

        /// <summary>
        /// Puts the written claim in place only if none is there, atomically: link(2) on Unix (File.Move without
        /// overwrite checks and renames there, so two runs could both win), MoveFileEx without replace on Windows.
        /// False, with the temporary file gone, when a claim is there.
        /// </summary>
        private static bool PlaceNew(string temporary, string claim)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                if (Link(temporary, claim) == 0)
                {
                    TryDelete(temporary);
                    return true;
                }

                int error = Marshal.GetLastWin32Error();
                if (error == AlreadyExists)
                {
                    TryDelete(temporary);
                    return false;
                }

                // A file system without hard links (some network shares): the move below.
            }

            try
            {
                File.Move(temporary, claim);
                return true;
            }
            catch (IOException) when (File.Exists(claim))
            {
                TryDelete(temporary);
                return false;
            }
        }

        // EEXIST on Linux and macOS.
        private const int AlreadyExists = 17;

        [DllImport("libc", EntryPoint = "link", SetLastError = true)]
        private static extern int Link(string existing, string created);

        // A claim this module writes is a regular file of a few hundred bytes.
        private const int MaxClaimBytes = 4096;

        /// <summary>
        /// Who holds a claim that is there, or null when it is stale or broken and may be replaced. Only a regular
        /// file is read, within a bound: a FIFO there would block the read, a link to /dev/zero would never end, and
        /// neither is a claim this module wrote, so both are replaced (the link itself, never its target). A folder
        /// in a claim's place is no claim and may hold someone's files: its image fails, naming it.
        /// </summary>
        private static string? LiveHolder(string claim)
        {
            if (Directory.Exists(claim))
            {
                throw new CaptionException("ClaimBlocked", CaptionErrorCategory.ResourceUnavailable, $"'{claim}' is a folder where this image's claim file goes, so runs cannot agree who captions the image. Remove or rename that folder.");
            }

            var info = new FileInfo(claim);
            if (!info.Exists)
            {
                return null;
            }

            if ((info.Attributes & FileAttributes.ReparsePoint) != 0 || RegularFile.Check(claim, MaxClaimBytes) != RegularFile.Kind.Readable)
            {
                return null;
            }

            string[] lines;
            DateTime written;
            try
            {
                lines = Encoding.UTF8.GetString(RegularFile.ReadAllBytes(claim, MaxClaimBytes)).Split('\n');
                written = File.GetLastWriteTimeUtc(claim);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                return "another run";
            }

            string host = lines.Length > 0 ? lines[0] : "";
            bool sameHost = string.Equals(host, Host, StringComparison.OrdinalIgnoreCase);
            if (lines.Length < 2 || !int.TryParse(lines[1], out int process))
            {
                // Half written by a run killed while claiming: stale once it is not brand new.
                return DateTime.UtcNow - written > TimeSpan.FromMinutes(1) ? null : "another run";
            }

            if (DateTime.UtcNow - written > StaleAfter || (sameHost && !IsRunning(process)))
            {
                return null;
            }

            return $"{host}, process {process}, since {written:u}";
        }

        private static bool IsRunning(int process)
        {
            try
            {
                using Process found = System.Diagnostics.Process.GetProcessById(process);
                return !found.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }

        private static void TryDelete(string path)
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // A claim that cannot be removed goes stale by itself.
            }
        }
    }
}
