using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption
{
    /// <summary>
    /// A fixed number of places, taken in ticket order: images prepared ahead, in whatever order their preparation
    /// finishes, still go to the server in the order they were started (the folder's order), so a run with one
    /// place captions its images one by one as listed. A ticket whose image failed before it needed a place is
    /// passed over with <see cref="Skip"/>.
    /// </summary>
    internal sealed class OrderedGate
    {
        private readonly object gate = new object();
        private readonly SortedDictionary<long, TaskCompletionSource<bool>> waiting = new SortedDictionary<long, TaskCompletionSource<bool>>();
        private readonly HashSet<long> skipped = new HashSet<long>();
        private long next;
        private int free;

        public OrderedGate(int places) => free = places;

        /// <summary>Waits until every earlier ticket has entered or been skipped, and a place is free.</summary>
        public async Task EnterAsync(long ticket, CancellationToken cancellationToken)
        {
            var entered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                waiting.Add(ticket, entered);
                Admit();
            }

            using (cancellationToken.Register(() => Cancel(ticket, entered)))
            {
                await entered.Task.ConfigureAwait(false);
            }
        }

        /// <summary>Passes over a ticket that will never enter (its image failed while being prepared).</summary>
        public void Skip(long ticket)
        {
            lock (gate)
            {
                if (ticket >= next)
                {
                    skipped.Add(ticket);
                    Admit();
                }
            }
        }

        /// <summary>Gives a place back.</summary>
        public void Release()
        {
            lock (gate)
            {
                free++;
                Admit();
            }
        }

        private void Cancel(long ticket, TaskCompletionSource<bool> entered)
        {
            lock (gate)
            {
                if (waiting.Remove(ticket))
                {
                    // A cancelled ticket must not hold back the ones after it.
                    skipped.Add(ticket);
                    Admit();
                }
            }

            entered.TrySetCanceled();
        }

        // Called under the lock: lets in the next tickets in order while places are free.
        private void Admit()
        {
            while (true)
            {
                if (skipped.Remove(next))
                {
                    next++;
                    continue;
                }

                if (free == 0 || !waiting.TryGetValue(next, out TaskCompletionSource<bool>? entered))
                {
                    return;
                }

                waiting.Remove(next);
                free--;
                next++;
                entered.TrySetResult(true);
            }
        }
    }
}
