using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption
{
    /// <summary>
    /// Keeps up to a fixed number of images in flight and hands every outcome to one consumer thread
    /// (PowerShell's pipeline thread), which alone may write output. The consumer starts jobs, takes
    /// events, and is the only one to count what is in flight, so no lock is needed.
    /// Images in flight are the throttle limit's conversations plus a few more prepared ahead (decoded and
    /// scaled on the cores while the conversations wait on the server), so a server is never kept waiting for
    /// an image to be prepared; the endpoint pool holds the prepared ones back until a place frees.
    /// </summary>
    public sealed class CaptionBatch : IDisposable
    {
        private readonly CaptionEngine engine;
        private readonly CancellationToken cancellationToken;
        private readonly BlockingCollection<CaptionEvent> events = new BlockingCollection<CaptionEvent>();
        private readonly OrderedGate conversations;

        // Preparation starts in the same order, one image per core, so the next image due at the server is the
        // next one prepared rather than one that waited behind later ones for a decoding place.
        private readonly OrderedGate decoding = new OrderedGate(Math.Max(1, Environment.ProcessorCount));
        private long nextTicket;

        // The place of the last failed image taken, given back when the consumer next takes an event: by then it
        // has handled the failure, and stopped the run if it had to.
        private Action? heldByLast;

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
            conversations = new OrderedGate(throttleLimit);
            // As many as the throttle limit, so a whole wave of images finishing together finds the next ones
            // ready, but at most 32: each holds its encoded image (at most the byte cap of images sent, a few hundred KB
            // for most), and 32 keep even a large throttle limit fed at the rate one machine can decode.
            LookAhead = Math.Min(Math.Max(Environment.ProcessorCount * 2, throttleLimit), Math.Max(32, Environment.ProcessorCount * 2));
            this.cancellationToken = cancellationToken;
        }

        /// <summary>Images allowed in flight at once.</summary>
        public int ThrottleLimit { get; }

        /// <summary>Images prepared ahead, beyond the throttle limit, at most: the throttle limit (at least two per core, at most 32).</summary>
        public int LookAhead { get; set; }

        /// <summary>Images started whose Completed or Failed event has not been taken yet.</summary>
        public int InFlight { get; private set; }

        /// <summary>True when another job may start: fewer than the throttle limit plus the look-ahead are in flight.</summary>
        public bool HasSlot => InFlight < ThrottleLimit + LookAhead;

        /// <summary>Starts captioning a job on the thread pool. Call only when <see cref="HasSlot"/>.</summary>
        public void Start(CaptionJob job)
        {
            InFlight++;
            long ticket = nextTicket++;
            _ = Task.Run(() => RunAsync(job, ticket));
        }

        /// <summary>Waits for the next event; throws <see cref="OperationCanceledException"/> when the batch is cancelled.</summary>
        public CaptionEvent Take()
        {
            GiveBackHeld();
            CaptionEvent next = events.Take(cancellationToken);
            Count(next);
            return next;
        }

        /// <summary>Waits up to <paramref name="wait"/> for the next event; throws <see cref="OperationCanceledException"/> when the batch is cancelled.</summary>
        public bool TryTake(TimeSpan wait, out CaptionEvent? next)
        {
            GiveBackHeld();
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
            GiveBackHeld();
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
                heldByLast = next.OnTaken;
            }
        }

        private void GiveBackHeld()
        {
            Action? held = heldByLast;
            heldByLast = null;
            held?.Invoke();
        }

        private async Task RunAsync(CaptionJob job, long ticket)
        {
            CaptionEvent outcome;
            bool conversing = false;
            bool entered = false;
            bool decodingEntered = false;
            try
            {
                Action<string> log = text => Post(CaptionEvent.Message(job.Path, text));
                var clock = System.Diagnostics.Stopwatch.StartNew();
                await decoding.EnterAsync(ticket, cancellationToken).ConfigureAwait(false);
                decodingEntered = true;
                Images.PreparedImage image;
                try
                {
                    image = await engine.PrepareAsync(job, log, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    decoding.Release();
                }

                TimeSpan preparation = clock.Elapsed;

                // Prepared ahead; now one of the throttle limit's places for the conversation itself, in start order.
                await conversations.EnterAsync(ticket, cancellationToken).ConfigureAwait(false);
                conversing = true;
                entered = true;
                var (results, history) = await engine.ConverseAllAsync(job, image, preparation, log, cancellationToken).ConfigureAwait(false);
                conversations.Release();
                conversing = false;
                foreach (string cut in results.Select(Conversation.CaptionResults.CutOffWarning).OfType<string>())
                {
                    // Said where the user looks: the caption is written, but it was built on an answer cut short.
                    Post(CaptionEvent.Warning(cut));
                }

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

            if (!decodingEntered)
            {
                decoding.Skip(ticket);
            }

            if (!entered)
            {
                conversations.Skip(ticket);
            }

            // A failed image keeps its place until the consumer has heard of it, so a run that must stop (the
            // circuit breaker) stops before an image prepared ahead is sent in its place.
            if (conversing)
            {
                outcome.OnTaken = () => conversations.Release();
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
