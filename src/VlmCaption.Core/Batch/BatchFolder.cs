using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace VlmCaption.Batch
{
    /// <summary>
    /// A batch run's state on disk, so a run stopped anywhere (Ctrl+C, reboot, kill -9) goes on where it stopped:
    /// settings.json (what the requests were built from), images.jsonl and prepared/ (each image prepared once),
    /// round-NN/attempt-N/ (the request files, the ids of what was submitted, the outputs downloaded) and
    /// reported.log (images already written or failed). Every file is written whole and renamed into place, so a
    /// file that exists is complete. The folder is locked while a run uses it.
    /// </summary>
    internal sealed class BatchFolder : IDisposable
    {
        /// <summary>The folder a run keeps its state in under the output (or image) folder; the image walk skips it.</summary>
        public const string DefaultName = ".vlmcaption-batch";

        private readonly FileStream lockFile;

        public BatchFolder(string path)
        {
            Path = path;
            if (IsLink(new DirectoryInfo(path)))
            {
                throw Invalid(path, "is a symbolic link; the state folder is written, and a link could lead the writes out of the dataset. Name the folder itself");
            }

            Directory.CreateDirectory(path);
            string lockPath = Combine("run.lock");
            if (IsLink(new FileInfo(lockPath)))
            {
                throw Invalid(lockPath, "is a symbolic link");
            }

            if (!File.Exists(lockPath))
            {
                // Made first, so that a folder that cannot be written fails here with its own error, not as "in use".
                try
                {
                    using (new FileStream(lockPath, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite))
                    {
                    }
                }
                catch (IOException) when (File.Exists(lockPath))
                {
                    // Made by another run at the same moment; the open below decides which run goes on.
                }
            }

            try
            {
                // FileShare.None is a sharing lock on Windows and an flock(2) on Unix, held while the run lasts. Opened
                // for writing too: a FIFO put in its place opens at once that way (read-only would wait for a writer)
                // and is refused because it cannot seek.
                lockFile = new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e)
            {
                throw new CaptionException("BatchInUse", CaptionErrorCategory.ResourceUnavailable, $"Another run is using the batch folder '{path}'. Wait for it to end; two runs of one batch would submit its rounds twice.", e);
            }

            if (!lockFile.CanSeek)
            {
                lockFile.Dispose();
                throw Invalid(lockPath, "is not a regular file");
            }

            try
            {
                CheckEntries(new DirectoryInfo(path), 0);
            }
            catch
            {
                lockFile.Dispose();
                throw;
            }
        }

        public string Path { get; }

        public string SettingsFile => Combine("settings.json");

        /// <summary>The run's id, put in every request's custom_id, so answers of another run or dataset are never taken.</summary>
        public string RunIdFile => Combine("run-id");

        /// <summary>
        /// The run's id: 16 hex digits made when the run is prepared; empty for a folder kept by a version that made
        /// none. Throws <see cref="CaptionException"/> (BatchStateInvalid) for a file that is not one.
        /// </summary>
        public string ReadRunId()
        {
            string? id = ReadText(RunIdFile, 64)?.Trim();
            if (id is null || System.Text.RegularExpressions.Regex.IsMatch(id, "^[0-9a-f]{16}$"))
            {
                return id ?? "";
            }

            throw Invalid(RunIdFile, "is not a run id this module wrote (a regular file of 16 hex digits)");
        }

        /// <summary>
        /// Reads a state file as text: null when it is missing, "" when its size is 0 (never opened: a FIFO put there
        /// would block the open). Throws BatchStateInvalid when it is larger than any file this module writes there.
        /// </summary>
        public static string? ReadText(string file, long maxBytes)
        {
            switch (RegularFile.Check(file, maxBytes))
            {
                case RegularFile.Kind.Missing:
                    return null;
                case RegularFile.Kind.Readable:
                    return new UTF8Encoding(false).GetString(RegularFile.ReadAllBytes(file, maxBytes));
                case RegularFile.Kind.TooLarge:
                    throw Invalid(file, $"is larger than such a file can be ({maxBytes} bytes)");
                default:
                    return "";
            }
        }

        /// <summary>The error of a state folder that does not hold up: it names the entry and what is wrong, and says how to start again.</summary>
        public static CaptionException Invalid(string entry, string problem) =>
            new CaptionException("BatchStateInvalid", CaptionErrorCategory.InvalidData, $"The batch run's folder does not hold up: '{entry}' {problem}. Nothing more was submitted or written. Move that away, or delete the batch run's folder to start the run again.");

        // The state folder is read as untrusted input (a synced or shared dataset may carry one made elsewhere): a
        // link anywhere in it could lead a write out of the dataset, so none is followed; each entry's own kind is
        // looked at, never its target's. Deeper than round-NN/attempt-N/ is not ours.
        private void CheckEntries(DirectoryInfo folder, int depth)
        {
            foreach (FileSystemInfo entry in folder.EnumerateFileSystemInfos())
            {
                if (IsLink(entry))
                {
                    throw Invalid(entry.FullName, "is a symbolic link; links in the state folder are not followed");
                }

                if (entry is DirectoryInfo inner)
                {
                    if (depth >= 2)
                    {
                        throw Invalid(inner.FullName, "is a folder deeper than any this module makes");
                    }

                    CheckEntries(inner, depth + 1);
                }
            }
        }

        private static bool IsLink(FileSystemInfo entry) => entry.Exists && (entry.Attributes & FileAttributes.ReparsePoint) != 0;

        public string ImagesFile => Combine("images.jsonl");

        /// <summary>Exists once every image is prepared and listed.</summary>
        public string ImagesDone => Combine("images.done");

        public string ReportedLog => Combine("reported.log");

        /// <summary>The answers of the run in progress (<see cref="BatchAnswers"/>), gone when it ends.</summary>
        public string AnswersFile => Combine("answers.tmp");

        public string PreparedFile(BatchImage image) => Combine("prepared", image.Key + ".datauri");

        public string AttemptFolder(int round, int attempt) =>
            Combine(string.Format(CultureInfo.InvariantCulture, "round-{0:D2}", round), string.Format(CultureInfo.InvariantCulture, "attempt-{0}", attempt));

        private string Combine(params string[] parts) => System.IO.Path.Combine(Path, System.IO.Path.Combine(parts));

        /// <summary>Writes a whole file under a temporary name and renames it into place (<see cref="Output.CaptionFile.Commit"/>), so a file that exists is complete.</summary>
        public static void WriteWhole(string path, Action<Stream> write)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            string temporary = Output.CaptionFile.TemporaryPathIn(System.IO.Path.GetDirectoryName(path)!);
            try
            {
                using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    write(stream);
                    stream.Flush(flushToDisk: true);
                }

                Output.CaptionFile.Commit(temporary, path, overwrite: true);
            }
            catch
            {
                File.Delete(temporary);
                throw;
            }
        }

        public static void WriteWhole(string path, string text) => WriteWhole(path, stream =>
        {
            byte[] bytes = new UTF8Encoding(false).GetBytes(text);
            stream.Write(bytes, 0, bytes.Length);
        });

        /// <summary>
        /// The images reported so far (written or failed), by number. A log of size 0 holds nothing and is removed,
        /// so that the appends that follow never open a FIFO put in its place.
        /// </summary>
        public HashSet<int> ReadReported()
        {
            var numbers = new HashSet<int>();
            string? text = ReadText(ReportedLog, 64L << 20);
            if (text == "")
            {
                File.Delete(ReportedLog);
            }

            foreach (string line in (text ?? "").Split('\n'))
            {
                if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int number))
                {
                    numbers.Add(number);
                }
            }

            return numbers;
        }

        /// <summary>Notes an image as reported; a torn last line from a kill is skipped when read.</summary>
        public void AppendReported(int number)
        {
            using var stream = new FileStream(ReportedLog, FileMode.Append, FileAccess.Write, FileShare.Read);
            byte[] line = Encoding.ASCII.GetBytes(number.ToString(CultureInfo.InvariantCulture) + "\n");
            stream.Write(line, 0, line.Length);
            stream.Flush(flushToDisk: true);
        }

        /// <summary>Removes what the run kept, once every image is reported; only this class's own names.</summary>
        public void Remove(bool wholeFolder)
        {
            lockFile.Dispose();
            if (wholeFolder)
            {
                Directory.Delete(Path, recursive: true);
                return;
            }

            foreach (string file in new[] { SettingsFile, RunIdFile, ImagesFile, ImagesDone, ReportedLog, Combine("run.lock") })
            {
                File.Delete(file);
            }

            foreach (string folder in Directory.GetDirectories(Path))
            {
                string name = System.IO.Path.GetFileName(folder);
                if (name == "prepared" || name.StartsWith("round-", StringComparison.Ordinal))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
        }

        public void Dispose() => lockFile.Dispose();
    }
}
