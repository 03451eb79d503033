using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption
{
    /// <summary>
    /// Keeps up to a fixed number of images in flight and hands every outcome to one consumer thread
    /// (PowerShell's pipeline thread), which alone may write output. The consumer starts jobs, takes
    /// events, and is the only one to count what is in flight, so no lock is needed.
    /// </summary>
    public sealed class CaptionBatch : IDisposable
    {
        private readonly CaptionEngine engine;
        private readonly CancellationToken cancellationToken;
        private readonly BlockingCollection<CaptionEvent> events = new BlockingCollection<CaptionEvent>();

        /// <summary>Creates a batch that runs at most <paramref name="throttleLimit"/> images at once.</summary>
        public CaptionBatch(CaptionEngine engine, int throttleLimit, CancellationToken cancellationToken)
        {
            if (throttleLimit < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(throttleLimit), throttleLimit, "The throttle limit must be at least 1.");
            }

            this.engine = engine;
            engine.Notice += text => Post(CaptionEvent.Warning(text));
            ThrottleLimit = throttleLimit;
            this.cancellationToken = cancellationToken;
        }

        /// <summary>Images allowed in flight at once.</summary>
        public int ThrottleLimit { get; }

        /// <summary>Images started whose Completed or Failed event has not been taken yet.</summary>
        public int InFlight { get; private set; }

        /// <summary>True when another job may start without exceeding the throttle limit.</summary>
        public bool HasSlot => InFlight < ThrottleLimit;

        /// <summary>Starts captioning a job on the thread pool. Call only when <see cref="HasSlot"/>.</summary>
        public void Start(CaptionJob job)
        {
            InFlight++;
            _ = Task.Run(() => RunAsync(job));
        }

        /// <summary>Waits for the next event; throws <see cref="OperationCanceledException"/> when the batch is cancelled.</summary>
        public CaptionEvent Take()
        {
            CaptionEvent next = events.Take(cancellationToken);
            Count(next);
            return next;
        }

        /// <summary>Waits up to <paramref name="wait"/> for the next event; throws <see cref="OperationCanceledException"/> when the batch is cancelled.</summary>
        public bool TryTake(TimeSpan wait, out CaptionEvent? next)
        {
            if (events.TryTake(out next, (int)wait.TotalMilliseconds, cancellationToken))
            {
                Count(next);
                return true;
            }

            return false;
        }

        /// <summary>Streamed chunks of text received so far, for the progress bar.</summary>
        public long TokensReceived => engine.TokensReceived;

        /// <summary>Takes an event if one is waiting.</summary>
        public bool TryTake(out CaptionEvent? next)
        {
            if (events.TryTake(out next))
            {
                Count(next);
                return true;
            }

            return false;
        }

        /// <inheritdoc />
        public void Dispose() => events.Dispose();

        private void Count(CaptionEvent next)
        {
            if (next.Kind == CaptionEventKind.Completed || next.Kind == CaptionEventKind.Failed)
            {
                InFlight--;
            }
        }

        private async Task RunAsync(CaptionJob job)
        {
            CaptionEvent outcome;
            try
            {
                var (results, history) = await engine.RunAsync(job, text => Post(CaptionEvent.Message(job.Path, text)), cancellationToken).ConfigureAwait(false);
                outcome = CaptionEvent.Completed(results, history);
            }
            catch (CaptionException e)
            {
                outcome = CaptionEvent.Failed(job.Path, e);
            }
            catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
            {
                outcome = CaptionEvent.Failed(job.Path, new CaptionException("Cancelled", CaptionErrorCategory.InvalidResult, $"Captioning '{job.Path}' was cancelled.", e));
            }
            catch (Exception e)
            {
                // A bug or an unexpected library failure must still surface as this image's error, not vanish.
                outcome = CaptionEvent.Failed(job.Path, new CaptionException("CaptionFailed", CaptionErrorCategory.InvalidResult, $"Captioning '{job.Path}' failed unexpectedly: {e.GetType().Name}: {e.Message}", e));
            }

            Post(outcome);
        }

        private void Post(CaptionEvent next)
        {
            try
            {
                events.Add(next);
            }
            catch (ObjectDisposedException)
            {
                // The consumer has gone (pipeline stopped); nobody is left to tell.
            }
        }
    }
}
