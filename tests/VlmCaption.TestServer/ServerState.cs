namespace VlmCaption.TestServer;

/// <summary>Counters, the request log, the concurrency cap and fault matching, shared by every request.</summary>
public sealed class ServerState(ServerOptions options, string? logPath)
{
    private readonly Lock gate = new();
    private int requestCount;

    /// <summary>Batch API counters for /debug/stats: files uploaded and batches created since start or reset.</summary>
    public int FilesUploaded;
    public int BatchesCreated;
    public int BatchRouteFaultsFired;
    public int ProxiedRequests;
    public long UploadedBytes;
    public long DownloadedBytes;

    /// <summary>Files the Batch API holds now (uploads and outputs not deleted), kept across resets.</summary>
    public Func<int> StoredFileCount { get; set; } = () => 0;
    private int inFlight;
    private int maxInFlight;
    private SemaphoreSlim? cap = options.MaxConcurrent > 0 ? new SemaphoreSlim(options.MaxConcurrent) : null;

    private DateTime loadingUntil = DateTime.UtcNow.AddMilliseconds(options.LoadingMs);

    public ServerOptions Options { get; private set; } = options;

    public Persona Persona => Personas.Get(Options.Persona);

    /// <summary>True while the server plays a model that is still loading.</summary>
    public bool IsLoading => DateTime.UtcNow < loadingUntil;

    public RequestLog Log { get; } = new(logPath);

    // Chat requests taken in whose entries are not yet in the log: a client has the last byte of an answer a
    // moment before the handler that sent it ends and logs it.
    private int unlogged;

    public void RequestBegan() => Interlocked.Increment(ref unlogged);

    public void RequestEnded(System.Text.Json.Nodes.JsonObject entry)
    {
        if (!Options.NoLog)
        {
            Log.Add(entry);
        }

        Interlocked.Decrement(ref unlogged);
    }

    /// <summary>
    /// The log once every chat request taken in is in it, so a test that has its answers counts them all; waits at
    /// most a second, since a test may hold a request on purpose.
    /// </summary>
    public System.Text.Json.Nodes.JsonArray SettledLog()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref unlogged) > 0 && clock.ElapsedMilliseconds < 1000)
        {
            Thread.Sleep(5);
        }

        return Log.Snapshot();
    }

    public int InFlight => Volatile.Read(ref inFlight);

    public object Stats()
    {
        lock (meter)
        {
            // The average number in flight from the first request's start to the start of the last image's first
            // turn: the span in which the client still had images to send, so the tail, when fewer images are
            // left than the throttle allows, does not count against it.
            double span = firstStart < 0 ? 0 : (double)(lastStart - firstStart) / System.Diagnostics.Stopwatch.Frequency;
            return new
            {
                requests = Volatile.Read(ref requestCount),
                inFlight = InFlight,
                maxInFlight = Volatile.Read(ref maxInFlight),
                filesUploaded = Volatile.Read(ref FilesUploaded),
                batchesCreated = Volatile.Read(ref BatchesCreated),
                batchRouteFaults = Volatile.Read(ref BatchRouteFaultsFired),
                proxiedRequests = Volatile.Read(ref ProxiedRequests),
                uploadedBytes = Interlocked.Read(ref UploadedBytes),
                downloadedBytes = Interlocked.Read(ref DownloadedBytes),
                storedFiles = StoredFileCount(),
                averageInFlightWhileSending = span > 0 ? Math.Round(integralAtLastStart / span, 3) : 0,
                sendingSeconds = Math.Round(span, 3),
            };
        }
    }

    // The time integral of the requests in flight, for Stats' average (benchmarks); the last start is of a first turn.
    private readonly Lock meter = new();
    private long firstStart = -1;
    private long lastChange;
    private long lastStart;
    private int metered;
    private double integral;
    private double integralAtLastStart;

    private void Meter(int change, bool firstTurn)
    {
        lock (meter)
        {
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (firstStart < 0)
            {
                firstStart = now;
            }
            else
            {
                integral += metered * (double)(now - lastChange) / System.Diagnostics.Stopwatch.Frequency;
            }

            metered += change;
            lastChange = now;
            if (firstTurn)
            {
                lastStart = now;
                integralAtLastStart = integral;
            }
        }
    }

    public int NextRequestNumber() => Interlocked.Increment(ref requestCount);

    /// <summary>Replaces the options and clears the log and counters.</summary>
    public void Reset(ServerOptions? replacement)
    {
        lock (gate)
        {
            if (replacement is not null)
            {
                Options = replacement;
                cap = replacement.MaxConcurrent > 0 ? new SemaphoreSlim(replacement.MaxConcurrent) : null;
            }

            foreach (FaultRule rule in Options.Faults)
            {
                rule.Fired = 0;
            }

            loadingUntil = DateTime.UtcNow.AddMilliseconds(Options.LoadingMs);
            requestCount = 0;
            maxInFlight = 0;
            FilesUploaded = BatchesCreated = BatchRouteFaultsFired = ProxiedRequests = 0;
            UploadedBytes = DownloadedBytes = 0;
            Log.Clear();
            lock (meter)
            {
                firstStart = -1;
                integral = integralAtLastStart = 0;
                metered = InFlight;
            }
        }
    }

    public bool IsAuthorized(HttpContext context) =>
        Options.ApiKey is not string key ? !Persona.RequiresKey || context.Request.Headers.Authorization.Count > 0 : context.Request.Headers.Authorization.ToString() == "Bearer " + key;

    public FaultRule? MatchFault(int number, ParsedRequest request, ImageFacts? image, string model = "")
    {
        lock (gate)
        {
            foreach (FaultRule rule in Options.Faults)
            {
                bool matches = (rule.Requests is null || rule.Requests.Contains(number))
                    && (rule.ImageSize is null || (image is not null && rule.ImageSize == $"{image.Width}x{image.Height}"))
                    && (rule.TextContains is null || request.AllUserText.ToString().Contains(rule.TextContains, StringComparison.Ordinal))
                    && (rule.Turn is null || rule.Turn == request.Turn)
                    && (rule.Model is null || rule.Model == model)
                    && (rule.Times is null || rule.Fired < rule.Times);
                if (matches)
                {
                    rule.Fired++;
                    return rule;
                }
            }
        }

        return null;
    }

    /// <summary>Waits for a serving slot under the concurrency cap and counts the request as in flight.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken, bool firstTurn = false)
    {
        SemaphoreSlim? slots = cap;
        if (slots is not null)
        {
            await slots.WaitAsync(cancellationToken);
        }

        int now = Interlocked.Increment(ref inFlight);
        Meter(+1, firstTurn);
        int seen;
        while (now > (seen = Volatile.Read(ref maxInFlight)) && Interlocked.CompareExchange(ref maxInFlight, now, seen) != seen)
        {
        }

        return new Slot(this, slots);
    }

    // Given back once the answer is complete, before its last bytes are written (a client that has them sends its
    // next request at once, and must not find this one still counted), and again, harmlessly, when the handler ends.
    private sealed class Slot(ServerState state, SemaphoreSlim? slots) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 1)
            {
                return;
            }

            Interlocked.Decrement(ref state.inFlight);
            state.Meter(-1, false);
            slots?.Release();
        }
    }
}
