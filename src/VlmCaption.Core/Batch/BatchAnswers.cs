using System;
using System.IO;
using System.Text;

namespace VlmCaption.Batch
{
    /// <summary>
    /// The cleaned answers of a batch run, kept in a file of the state folder rather than in memory, so what a run
    /// holds per turn is a few numbers whatever the answers' length. Rebuilt by every run as it replays the rounds.
    /// Used from one thread.
    /// </summary>
    internal sealed class BatchAnswers : IDisposable
    {
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);
        private readonly FileStream file;

        public BatchAnswers(string path)
        {
            // Made new: whatever a kill left there (or was put there: a link, a FIFO) is removed, not opened.
            File.Delete(path);
            file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        }

        /// <summary>Keeps a text; returns where it is.</summary>
        public (long Offset, int Length) Add(string text)
        {
            byte[] bytes = Utf8.GetBytes(text);
            long offset = file.Seek(0, SeekOrigin.End);
            file.Write(bytes, 0, bytes.Length);
            return (offset, bytes.Length);
        }

        /// <summary>A text kept by <see cref="Add"/>.</summary>
        public string Read((long Offset, int Length) where)
        {
            var bytes = new byte[where.Length];
            file.Seek(where.Offset, SeekOrigin.Begin);
            int read = 0;
            while (read < bytes.Length)
            {
                int n = file.Read(bytes, read, bytes.Length - read);
                if (n == 0)
                {
                    throw new EndOfStreamException("The batch run's answers file is shorter than it was written.");
                }

                read += n;
            }

            return Utf8.GetString(bytes);
        }

        public void Dispose() => file.Dispose();
    }
}
