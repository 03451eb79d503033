using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption.Transport
{
    /// <summary>Reads a response body whole, but never more than a limit: a 2 GB answer must not cost 2 GB.</summary>
    internal static class BoundedRead
    {
        /// <summary>The first <paramref name="limit"/> bytes of the body at most; the rest is left unread.</summary>
        public static async Task<byte[]> ReadPrefixAsync(Stream stream, int limit, CancellationToken cancellationToken)
        {
            var buffer = new byte[limit];
            int total = 0;
            while (total < limit)
            {
                int read = await stream.ReadAsync(buffer, total, limit - total, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            var prefix = new byte[total];
            System.Array.Copy(buffer, prefix, total);
            return prefix;
        }

        /// <summary>The body, or null when it is longer than <paramref name="limit"/> bytes (reading stops there).</summary>
        public static async Task<byte[]?> ReadAsync(Stream stream, long limit, CancellationToken cancellationToken)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            while (true)
            {
                int read = await stream.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return buffer.ToArray();
                }

                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
    }
}
