using System.Diagnostics;
using VlmCaption.TestServer;

// The reference VLM server for VlmCaption's tests and demo. See README.md beside this file.
try
{
    return args.Length > 0 && args[0] == "make-image" ? MakeImage(args[1..]) : await ServeAsync(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

static int MakeImage(string[] args)
{
    var spec = new ImageSpec();
    string? output = null;
    for (int i = 0; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
        switch (args[i])
        {
            case "--out": output = Next(); break;
            case "--width": spec.Width = int.Parse(Next()); break;
            case "--height": spec.Height = int.Parse(Next()); break;
            case "--color": spec.Color = Next(); break;
            case "--format": spec.Format = Next(); break;
            case "--orientation": spec.Orientation = int.Parse(Next()); break;
            case "--frames": spec.Frames = int.Parse(Next()); break;
            case "--alpha": spec.Alpha = true; break;
            case "--bits16": spec.Bits16 = true; break;
            case "--palette": spec.Palette = true; break;
            case "--cmyk": spec.Cmyk = true; break;
            case "--pattern": spec.Pattern = Next(); break;
            case "--quality": spec.Quality = int.Parse(Next()); break;
            default: throw new ArgumentException($"Unknown option {args[i]}.");
        }
    }

    File.WriteAllBytes(output ?? throw new ArgumentException("make-image needs --out PATH."), ImageFactory.Make(spec));
    return 0;
}

static async Task<int> ServeAsync(string[] args)
{
    var options = new ServerOptions();
    int port = 0;
    string? portFile = null, logPath = null;
    int? parentPid = null;
    for (int i = 0; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
        switch (args[i])
        {
            case "--config": options = ServerOptions.Load(Next()); break;
            case "--port": port = int.Parse(Next()); break;
            case "--port-file": portFile = Next(); break;
            case "--log": logPath = Next(); break;
            case "--latency-ms": options.LatencyMs = int.Parse(Next()); break;
            case "--token-latency-ms": options.TokenLatencyMs = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
            case "--api-key": options.ApiKey = Next(); break;
            case "--max-concurrent": options.MaxConcurrent = int.Parse(Next()); break;
            case "--models": options.Models = [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries)]; break;
            case "--strict-media-type": options.StrictMediaType = true; break;
            case "--echo-key": options.EchoKey = true; break;
            case "--no-image-decode": options.NoImageDecode = true; break;
            case "--no-log": options.NoLog = true; break;
            case "--persona": options.Persona = Personas.Get(Next()).Name; break;
            case "--loading-ms": options.LoadingMs = int.Parse(Next()); break;
            case "--context-tokens": options.ContextTokens = int.Parse(Next()); break;
            case "--parent-pid": parentPid = int.Parse(Next()); break;
            default: throw new ArgumentException($"Unknown option {args[i]}.");
        }
    }

    await using RunningServer server = await TestServerHost.StartAsync(options, port, logPath);
    Console.WriteLine($"listening on {server.Address.ToString().TrimEnd('/')}");
    if (portFile is not null)
    {
        // Write then rename, so a reader never sees a half-written port.
        File.WriteAllText(portFile + ".tmp", server.Address.Port.ToString());
        File.Move(portFile + ".tmp", portFile, overwrite: true);
    }

    // Ctrl+C and SIGTERM reach the host's own console lifetime, which stops the application; the wait below
    // ends with it. No handler of ours outlives this method, so none can touch a disposed token.
    using var stop = CancellationTokenSource.CreateLinkedTokenSource(server.Stopping);
    if (parentPid is int pid)
    {
        // Do not outlive the test process that started us, even if it was killed.
        _ = Task.Run(async () =>
        {
            try
            {
                await Process.GetProcessById(pid).WaitForExitAsync(stop.Token);
            }
            catch (ArgumentException)
            {
            }

            stop.Cancel();
        });
    }

    try
    {
        await Task.Delay(Timeout.Infinite, stop.Token);
    }
    catch (OperationCanceledException)
    {
    }

    return 0;
}
