using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using VlmCaption.Images;
using Xunit;

namespace VlmCaption.Tests
{
    /// <summary>
    /// The threads images are prepared on: off the thread pool, at most one a core, reused from image to image, and
    /// gone once idle, so a session keeps none between runs.
    /// </summary>
    public class DecodeThreadsTests
    {
        [Fact]
        public async Task RunsOffThePoolAtMostOneACoreReusingItsThreads()
        {
            int now = 0, most = 0;
            var threads = new ConcurrentDictionary<int, bool>();
            Task<int>[] work = Enumerable.Range(0, 40).Select(i => DecodeThreads.Run(() =>
            {
                Assert.False(Thread.CurrentThread.IsThreadPoolThread);
                threads[Environment.CurrentManagedThreadId] = true;
                int inside = Interlocked.Increment(ref now);
                InterlockedMax(ref most, inside);
                Thread.Sleep(10);
                Interlocked.Decrement(ref now);
                return i * 2;
            })).ToArray();

            int[] results = await Task.WhenAll(work).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal(Enumerable.Range(0, 40).Select(i => i * 2), results);
            Assert.InRange(most, 1, Environment.ProcessorCount);
            // Forty images, a handful of threads (other tests may share them, never more than one a core at once).
            Assert.InRange(threads.Count, 1, 4 * Environment.ProcessorCount);
        }

        [Fact]
        public async Task HandsBackWhatThePreparationThrew()
        {
            var failing = DecodeThreads.Run<int>(() => throw new CaptionException("ImageDecodeFailed", CaptionErrorCategory.InvalidData, "bad"));
            var error = await Assert.ThrowsAsync<CaptionException>(() => failing.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal("ImageDecodeFailed", error.ErrorId);

            // A failure leaves the thread able to take the next image.
            Assert.Equal(7, await DecodeThreads.Run(() => 7).WaitAsync(TimeSpan.FromSeconds(30)));
        }

        [Fact]
        public async Task ItsThreadsEndWhenIdle()
        {
            TimeSpan saved = DecodeThreads.IdleEnd;
            DecodeThreads.IdleEnd = TimeSpan.FromMilliseconds(200);
            try
            {
                Thread used = await DecodeThreads.Run(() => Thread.CurrentThread).WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Equal("VlmCaption image preparation", used.Name);
                Assert.True(used.IsBackground);

                // Ends within its idle time once no work comes (other tests may keep it a little longer).
                var clock = Stopwatch.StartNew();
                while (used.IsAlive && clock.Elapsed < TimeSpan.FromSeconds(20))
                {
                    await Task.Delay(50);
                }

                Assert.False(used.IsAlive, "the preparation thread was still there 20 s after its work");

                // And a thread comes again for the next image.
                Assert.Equal(3, await DecodeThreads.Run(() => 3).WaitAsync(TimeSpan.FromSeconds(30)));
            }
            finally
            {
                DecodeThreads.IdleEnd = saved;
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }
}
