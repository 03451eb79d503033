using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption.Images
{
    /// <summary>
    /// Threads of the module's own for preparing images, one per core at most, shared by every run in the process.
    /// A decode holds a core for a fifth of a second; on the thread pool (two threads on a two-core machine) it would
    /// hold back the network work of every image in flight. A thread started for each image cost more than a small
    /// image's whole preparation (a clone, a stack and the runtime's set-up, then their undoing: about a third of a
    /// millisecond of CPU an image), so these threads stay while there is work and end after a few idle seconds,
    /// leaving nothing behind in a session between runs.
    /// </summary>
    internal static class DecodeThreads
    {
        /// <summary>How long a thread waits for work before it ends; tests shorten it.</summary>
        internal static TimeSpan IdleEnd { get; set; } = TimeSpan.FromSeconds(5);

        private static readonly BlockingCollection<Action> Work = new BlockingCollection<Action>();
        private static readonly int MaxThreads = Math.Max(1, Environment.ProcessorCount);
        private static int running;
        private static int idle;

        /// <summary>Runs <paramref name="prepare"/> on one of the threads; its exception, if any, is the task's.</summary>
        public static Task<T> Run<T>(Func<T> prepare)
        {
            var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            Work.Add(() =>
            {
                try
                {
                    done.SetResult(prepare());
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            });

            // A thread more when more work waits than threads wait for work, and fewer than one a core run.
            if (Work.Count > Volatile.Read(ref idle))
            {
                int now = Volatile.Read(ref running);
                while (now < MaxThreads && Interlocked.CompareExchange(ref running, now + 1, now) != now)
                {
                    now = Volatile.Read(ref running);
                }

                if (now < MaxThreads)
                {
                    new Thread(Loop) { IsBackground = true, Name = "VlmCaption image preparation" }.Start();
                }
            }

            return done.Task;
        }

        private static void Loop()
        {
            while (true)
            {
                Interlocked.Increment(ref idle);
                bool took = Work.TryTake(out Action? item, IdleEnd);
                Interlocked.Decrement(ref idle);
                if (!took)
                {
                    Interlocked.Decrement(ref running);
                    if (Work.Count == 0)
                    {
                        return;
                    }

                    // Work came as this thread was leaving: it stays for it, unless another has started meanwhile.
                    if (Interlocked.Increment(ref running) > MaxThreads)
                    {
                        Interlocked.Decrement(ref running);
                        return;
                    }

                    continue;
                }

                item!();
            }
        }
    }
}
