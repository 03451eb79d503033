using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption.Video
{
    /// <summary>
    /// Runs ffmpeg or ffprobe as a process, bounded in time and in the bytes it may write: what a clip makes it
    /// print is untrusted (a clip that lies about its size, a decoder that spins), so stdout is read up to a limit
    /// and the process is killed past it, past its time, or when the run is stopped.
    /// </summary>
    internal static class ToolProcess
    {
        /// <summary>What a run of the tool gave back.</summary>
        internal sealed class Outcome
        {
            public int ExitCode { get; set; }

            public byte[] Output { get; set; } = Array.Empty<byte>();

            public string Errors { get; set; } = "";

            /// <summary>Killed for writing more than the limit.</summary>
            public bool TooMuch { get; set; }

            /// <summary>Killed for taking longer than allowed.</summary>
            public bool TimedOut { get; set; }
        }

        // stderr is for a message to show: the first bytes say what went wrong.
        private const int MaxErrorBytes = 16 * 1024;

        /// <summary>Runs <paramref name="tool"/> with <paramref name="arguments"/>; throws System.ComponentModel.Win32Exception when it cannot be started.</summary>
        public static async Task<Outcome> RunAsync(string tool, IReadOnlyList<string> arguments, long maxOutputBytes, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var start = new ProcessStartInfo(tool, Quote(arguments))
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                CreateNoWindow = true,
            };
            using var process = new Process { StartInfo = start };
            process.Start();
            process.StandardInput.Close();
            var outcome = new Outcome();
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(timeout);
            Task<byte[]> output = ReadBoundedAsync(process.StandardOutput.BaseStream, maxOutputBytes, () => outcome.TooMuch = true);
            Task<byte[]> errors = ReadBoundedAsync(process.StandardError.BaseStream, MaxErrorBytes, () => { });
            try
            {
                using (limit.Token.Register(() => Kill(process)))
                {
                    Task both = Task.WhenAll(output, errors);
                    while (!both.IsCompleted && !outcome.TooMuch)
                    {
                        await Task.WhenAny(both, Task.Delay(50, CancellationToken.None)).ConfigureAwait(false);
                    }

                    if (outcome.TooMuch)
                    {
                        Kill(process);
                    }

                    outcome.Output = await output.ConfigureAwait(false);
                    outcome.Errors = Encoding.UTF8.GetString(await errors.ConfigureAwait(false)).Trim();
                    process.WaitForExit();
                }
            }
            finally
            {
                Kill(process);
            }

            cancellationToken.ThrowIfCancellationRequested();
            outcome.TimedOut = limit.IsCancellationRequested;
            outcome.ExitCode = process.HasExited ? process.ExitCode : -1;
            return outcome;
        }

        /// <summary>Reads a stream to its end, keeping at most <paramref name="max"/> bytes; past that it says so and drains the rest.</summary>
        private static async Task<byte[]> ReadBoundedAsync(Stream stream, long max, Action overflow)
        {
            var kept = new MemoryStream();
            var buffer = new byte[81920];
            bool over = false;
            int read;
            while ((read = await stream.ReadAsync(buffer, 0, buffer.Length).ConfigureAwait(false)) > 0)
            {
                if (over)
                {
                    continue;
                }

                if (kept.Length + read > max)
                {
                    over = true;
                    overflow();
                    continue;
                }

                kept.Write(buffer, 0, read);
            }

            return kept.ToArray();
        }

        private static void Kill(Process process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }
            }
            catch (Exception e) when (e is InvalidOperationException || e is System.ComponentModel.Win32Exception || e is NotSupportedException)
            {
                // Gone already.
            }
        }

        /// <summary>
        /// One command line from the arguments, quoted as .NET splits it again on every platform (the Windows
        /// rules: a backslash doubles only before a quote): a path with spaces, quotes or a leading dash stays one
        /// argument. netstandard2.0 has no ArgumentList.
        /// </summary>
        internal static string Quote(IReadOnlyList<string> arguments)
        {
            var line = new StringBuilder();
            foreach (string argument in arguments)
            {
                if (line.Length > 0)
                {
                    line.Append(' ');
                }

                if (argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '\t', '\n', '\v', '"', '\\', '\'' }) < 0)
                {
                    line.Append(argument);
                    continue;
                }

                line.Append('"');
                int backslashes = 0;
                foreach (char c in argument)
                {
                    if (c == '\\')
                    {
                        backslashes++;
                        continue;
                    }

                    if (c == '"')
                    {
                        line.Append('\\', (backslashes * 2) + 1);
                    }
                    else
                    {
                        line.Append('\\', backslashes);
                    }

                    backslashes = 0;
                    line.Append(c);
                }

                line.Append('\\', backslashes * 2);
                line.Append('"');
            }

            return line.ToString();
        }
    }
}
