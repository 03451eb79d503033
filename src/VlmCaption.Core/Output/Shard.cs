using System;
using System.Security.Cryptography;
using System.Text;

namespace VlmCaption.Output
{
    /// <summary>
    /// One of n parts of a dataset, for n machines captioning one share without overlap: an image belongs to the
    /// part its path below the base directory hashes to, so every machine, given the same folder, agrees on the
    /// parts without talking to the others. Parts are numbered from 1 to n ("2/4"), so a job numbered from 0
    /// gets an error at its first part instead of silently never running one.
    /// </summary>
    public sealed class Shard
    {
        private Shard(int index, int count)
        {
            Index = index;
            Count = count;
        }

        /// <summary>This part, from 1.</summary>
        public int Index { get; }

        /// <summary>How many parts.</summary>
        public int Count { get; }

        /// <summary>Reads "i/n"; throws <see cref="ArgumentException"/> with what is wrong.</summary>
        public static Shard Parse(string text)
        {
            string[] parts = (text ?? "").Split('/');
            if (parts.Length != 2 || !int.TryParse(parts[0].Trim(), out int index) || !int.TryParse(parts[1].Trim(), out int count))
            {
                throw new ArgumentException($"The shard '{text}' is not of the form i/n, such as 2/4 (the second of four parts).");
            }

            if (count < 1 || count > 100_000)
            {
                throw new ArgumentException($"The shard '{text}' has {count} parts; use 1 to 100000.");
            }

            if (index < 1 || index > count)
            {
                throw new ArgumentException($"The shard '{text}' is out of range: parts are numbered 1 to {count}{(index == 0 ? " (a job numbered from 0 adds 1)" : "")}.");
            }

            return new Shard(index, count);
        }

        /// <summary>True when the image at <paramref name="relativePath"/> (below the base directory) is in this part.</summary>
        public bool Contains(string relativePath) => PartOf(relativePath, Count) == Index;

        /// <summary>
        /// The part, from 1, of an image: SHA-256 of its relative path with forward slashes, in Unicode normalisation
        /// form C, as UTF-8. Form C because file systems differ: macOS (and its SMB clients) give "café" decomposed
        /// (NFD) where Linux and Windows give it as it was written, usually composed, and machines sharing a
        /// dataset must agree on every image's part.
        /// </summary>
        public static int PartOf(string relativePath, int count)
        {
            using var sha = SHA256.Create();
            byte[] hash = sha.ComputeHash(Encoding.UTF8.GetBytes(relativePath.Replace('\\', '/').Normalize(NormalizationForm.FormC)));
            ulong value = BitConverter.ToUInt64(hash, 0);
            return (int)(value % (ulong)count) + 1;
        }

        /// <inheritdoc />
        public override string ToString() => $"{Index}/{Count}";
    }
}
