using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption.Transport
{
    /// <summary>
    /// Spreads images over endpoints serving the same model: each image goes to the endpoint with the fewest
    /// images in flight, each endpoint takes at most its limit, and an endpoint whose images keep failing is
    /// left out for a while so its share goes to the others. With one endpoint it never waits or rests.
    /// </summary>
    internal sealed class EndpointPool
    {
        private readonly object gate = new object();
        private readonly List<Slot> slots;
        private readonly int limitPerEndpoint;

        // Completed, and replaced, whenever a place is given back: waiters wake on that rather than polling.
        private TaskCompletionSource<bool> released = NewSignal();

        public EndpointPool(IEnumerable<ChatEndpoint> endpoints, int limitPerEndpoint)
        {
            slots = endpoints.Select(e => new Slot(e)).ToList();
            this.limitPerEndpoint = limitPerEndpoint;
        }

        /// <summary>Failures in a row that take an endpoint out of rotation.</summary>
        private const int FailuresBeforeRest = 3;

        /// <summary>How long an endpoint is left out.</summary>
        private static readonly TimeSpan Rest = TimeSpan.FromSeconds(30);

        /// <summary>
        /// Waits for a free place on an endpoint not in <paramref name="tried"/>: resting endpoints only when every
        /// other is resting too. Returns null when every endpoint has been tried.
        /// </summary>
        public async Task<ChatEndpoint?> AcquireAsync(ICollection<ChatEndpoint> tried, CancellationToken cancellationToken)
        {
            while (true)
            {
                Task placeFreed;
                lock (gate)
                {
                    List<Slot> candidates = slots.Where(s => !tried.Contains(s.Endpoint)).ToList();
                    if (candidates.Count == 0)
                    {
                        return null;
                    }

                    DateTime now = DateTime.UtcNow;
                    List<Slot> awake = candidates.Where(s => s.RestUntil <= now).ToList();
                    Slot? best = (awake.Count > 0 ? awake : candidates)
                        .Where(s => s.Outstanding < limitPerEndpoint)
                        .OrderBy(s => s.Outstanding)
                        .FirstOrDefault();
                    if (best is not null)
                    {
                        best.Outstanding++;
                        return best.Endpoint;
                    }

                    placeFreed = released.Task;
                }

                // Every candidate is full: wait until some image gives its place back.
                var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                using (cancellationToken.Register(() => cancelled.TrySetCanceled()))
                {
                    await Task.WhenAny(placeFreed, cancelled.Task).ConfigureAwait(false);
                }

                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        private static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Gives the place back, noting whether the endpoint failed the image.</summary>
        public void Release(ChatEndpoint endpoint, bool endpointFailed)
        {
            TaskCompletionSource<bool> waiting;
            lock (gate)
            {
                Slot slot = slots.First(s => s.Endpoint == endpoint);
                slot.Outstanding--;
                if (!endpointFailed)
                {
                    slot.ConsecutiveFailures = 0;
                }
                else if (++slot.ConsecutiveFailures >= FailuresBeforeRest && slots.Count > 1)
                {
                    slot.RestUntil = DateTime.UtcNow + Rest;
                    slot.ConsecutiveFailures = 0;
                }

                waiting = released;
                released = NewSignal();
            }

            waiting.TrySetResult(true);
        }

        private sealed class Slot
        {
            public Slot(ChatEndpoint endpoint) => Endpoint = endpoint;

            public ChatEndpoint Endpoint { get; }

            public int Outstanding { get; set; }

            public int ConsecutiveFailures { get; set; }

            public DateTime RestUntil { get; set; } = DateTime.MinValue;
        }
    }
}
