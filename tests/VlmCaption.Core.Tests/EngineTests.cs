using System.Diagnostics;
using System.Text.Json.Nodes;
using VlmCaption.Images;
using VlmCaption.TestServer;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>The engine over real HTTP, through the OpenAI SDK, against the reference server.</summary>
public class EngineTests
{
    private static CaptionEngine Engine(RunningServer server, CaptionSettings? settings = null, string? metadata = null)
    {
        settings ??= new CaptionSettings();
        CaptionSettings withServer = settings with { BaseUrl = server.BaseUrl, Model = settings.Model.Length > 0 ? settings.Model : "test" };
        return new CaptionEngine(withServer, new ImagePreparationOptions(), metadata) { RetryBaseDelay = TimeSpan.FromMilliseconds(20) };
    }

    private static JsonArray Requests(RunningServer server) => server.State.SettledLog();

    [Fact]
    public async Task One_prompt_gives_a_caption_that_names_the_true_size()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions());
        using var folder = new TempFolder();
        string path = folder.Image("cat.png", new ImageSpec { Width = 64, Height = 48, Color = "orange" });

        CaptionResult result = await Engine(server).CaptionAsync(new CaptionJob(path), null, default);

        Assert.StartsWith("Orange PNG image, 64x48 pixels. Turn 1.", result.Caption);
        Assert.Equal(CaptionStatus.Succeeded, result.Status);
        Assert.Equal(path, result.Path);
        Assert.Equal("test", result.Model);
        Assert.Single(result.Turns);
        Assert.Equal("stop", result.Turns[0].FinishReason);
        Assert.Equal(9, result.CompletionTokens);
        Assert.Equal("image/png", result.SentMediaType);
        Assert.Equal((64, 48), (result.SentWidth, result.SentHeight));
    }

    [Fact]
    public async Task Four_prompts_with_hints_and_metadata_follow_the_original_layout()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions());
        using var folder = new TempFolder();
        string path = folder.Image("a.png", new ImageSpec { Width = 30, Height = 20 });
        string[] prompts = ["first", "second", "third", "fourth"];
        var settings = new CaptionSettings { SystemPrompt = "Be factual.", Prompts = prompts, MaxTokens = 321 };
        var job = new CaptionJob(path, ["Image file information:\n- Full path: x\n", "Directory metadata:\n- mood: calm\n"]);

        CaptionResult result = await Engine(server, settings, "CODEX").CaptionAsync(job, null, default);

        Assert.Contains("Turn 4.", result.Caption);
        Assert.Equal(prompts, result.Turns.Select(t => t.Prompt));
        JsonArray log = Requests(server);
        Assert.Equal(4, log.Count);
        for (int i = 0; i < 4; i++)
        {
            JsonNode body = log[i]!["body"]!;
            Assert.Equal(321, body["max_tokens"]!.GetValue<int>());
            JsonArray messages = body["messages"]!.AsArray();
            Assert.Equal(2 + (2 * i), messages.Count);
            Assert.Equal("system", messages[0]!["role"]!.GetValue<string>());
            Assert.Equal("CODEX\nBe factual.", messages[0]!["content"]!.GetValue<string>());
            JsonArray first = messages[1]!["content"]!.AsArray();
            Assert.Equal("Image file information:\n- Full path: x\n\nDirectory metadata:\n- mood: calm\n\n\nfirst", first[0]!["text"]!.GetValue<string>());
            Assert.StartsWith("data:image/png;base64,", first[1]!["image_url"]!["url"]!.GetValue<string>());
            Assert.Equal(30, log[i]!["image"]!["width"]!.GetValue<int>());
            for (int turn = 1; turn <= i; turn++)
            {
                Assert.Equal("assistant", messages[2 * turn]!["role"]!.GetValue<string>());
                Assert.Equal(result.Turns[turn - 1].Response, messages[2 * turn]!["content"]!.GetValue<string>());
                Assert.Equal(prompts[turn], messages[(2 * turn) + 1]!["content"]!.GetValue<string>());
            }
        }
    }

    [Fact]
    public async Task Retry_rule_works_with_one_prompt_and_replaces_a_caption_free_of_the_phrase()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions());
        using var folder = new TempFolder();
        var rule = new RetryRule { RuleName = "no-turn-1", Phrases = ["turn 1", "never"], RejectionNote = "Avoid: [phrases]." };
        var settings = new CaptionSettings { Prompts = ["only"], RetryRules = [rule] };

        CaptionResult result = await Engine(server, settings).CaptionAsync(new CaptionJob(folder.Image("a.png", new ImageSpec())), null, default);

        Assert.Contains("Turn 2.", result.Caption);
        Assert.Equal(["only", "Avoid: turn 1."], result.Turns.Select(t => t.Prompt));
        JsonArray log = Requests(server);
        Assert.Equal("Avoid: turn 1.", log[1]!["body"]!["messages"]![2]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Retry_answer_that_still_has_the_phrase_is_not_kept()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions());
        using var folder = new TempFolder();
        var rule = new RetryRule { RuleName = "no-pixels", Phrases = ["PIXELS"], RejectionNote = "No [phrases]." };
        var lines = new List<string>();
        CaptionResult result = await Engine(server, new CaptionSettings { RetryRules = [rule] }).CaptionAsync(new CaptionJob(folder.Image("a.png", new ImageSpec())), lines.Add, default);
        Assert.Contains("Turn 1.", result.Caption);
        Assert.Equal(2, result.Turns.Count);
        Assert.Contains(lines, l => l.Contains("still has a banned phrase"));
    }

    [Fact]
    public async Task History_holds_each_turns_messages_without_image_data()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions());
        using var folder = new TempFolder();
        var engine = Engine(server, new CaptionSettings { Prompts = ["p1", "p2"], KeepHistory = true, ApiKey = "" });
        var (_, history) = await engine.RunAsync(new CaptionJob(folder.Image("a.png", new ImageSpec())), null, default);
        Assert.Equal(2, history.Count);
        JsonArray second = JsonNode.Parse(history[1])!.AsArray();
        Assert.Equal(4, second.Count);
        Assert.Matches(@"^data:image/png;base64,<\d+ bytes, 64x48, not kept>$", second[0]!["content"]![1]!["image_url"]!["url"]!.GetValue<string>());
        Assert.DoesNotContain("iVBORw0KGgo", history[1]);
    }

    [Fact]
    public async Task Think_blocks_are_stripped_before_the_history_and_the_caption()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { Faults = [new FaultRule { Kind = "think" }] });
        using var folder = new TempFolder();
        string path = folder.Image("a.png", new ImageSpec());
        CaptionResult result = await Engine(server, new CaptionSettings { Prompts = ["one", "two"] }).CaptionAsync(new CaptionJob(path), null, default);
        Assert.DoesNotContain("think", result.Caption);
        Assert.StartsWith("Red PNG image", result.Caption);
        Assert.DoesNotContain("<think>", Requests(server)[1]!["body"]!.ToJsonString());
    }

    [Fact]
    public async Task Http_429_is_retried_after_the_servers_retry_after()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions
        {
            Faults = [new FaultRule { Kind = "status", Status = 429, RetryAfter = 1, Requests = [1] }],
        });
        using var folder = new TempFolder();
        var lines = new List<string>();
        CaptionResult result = await Engine(server).CaptionAsync(new CaptionJob(folder.Image("a.png", new ImageSpec())), lines.Add, default);

        Assert.StartsWith("Red", result.Caption);
        JsonArray log = Requests(server);
        Assert.Equal([429, 200], log.Select(e => e!["status"]!.GetValue<int>()));
        TimeSpan gap = DateTimeOffset.Parse(log[1]!["time"]!.GetValue<string>()) - DateTimeOffset.Parse(log[0]!["time"]!.GetValue<string>());
        Assert.True(gap >= TimeSpan.FromMilliseconds(950), $"retried after {gap.TotalMilliseconds} ms, before Retry-After");
        Assert.Contains(lines, l => l.Contains("HTTP 429") && l.Contains("Retry 1 of 3"));
    }

    [Fact]
    public async Task Http_500_is_retried_and_gives_up_after_max_retries()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { Faults = [new FaultRule { Kind = "status", Status = 500 }] });
        using var folder = new TempFolder();
        var e = await Assert.ThrowsAsync<CaptionException>(() =>
            Engine(server, new CaptionSettings { MaxRetries = 2 }).CaptionAsync(new CaptionJob(folder.Image("a.png", new ImageSpec())), null, default));
        Assert.Equal("RequestFailed", e.ErrorId);
        Assert.Equal(500, e.StatusCode);
        Assert.Contains("Scripted fault: HTTP 500.", e.Message);
        Assert.Equal(3, Requests(server).Count);
    }

    [Theory]
    [InlineData("drop")]
    [InlineData("malformed")]
    [InlineData("status")]
    public async Task Broken_answers_are_retried_and_succeed(string kind)
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { Faults = [new FaultRule { Kind = kind, Status = 503, Times = 2 }] });
        using var folder = new TempFolder();
        CaptionResult result = await Engine(server).CaptionAsync(new CaptionJob(folder.Image("a.png", new ImageSpec())), null, default);
        Assert.StartsWith("Red", result.Caption);
        Assert.Equal(3, Requests(server).Count);
    }

    [Fact]
    public async Task Unknown_model_is_not_retried_and_says_so()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions());
        using var folder = new TempFolder();
        var e = await Assert.ThrowsAsync<CaptionException>(() =>
            Engine(server, new CaptionSettings { Model = "nope" }).CaptionAsync(new CaptionJob(folder.Image("a.png", new ImageSpec())), null, default));
        Assert.Equal(404, e.StatusCode);
        Assert.Equal(CaptionErrorCategory.ObjectNotFound, e.Category);
        Assert.Contains("'nope' does not exist", e.Message);
    }

    [Fact]
    public async Task Key_is_sent_as_bearer_and_a_wrong_key_is_an_authentication_error()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { ApiKey = "sk-right" });
        using var folder = new TempFolder();
        string path = folder.Image("a.png", new ImageSpec());
        CaptionResult ok = await Engine(server, new CaptionSettings { ApiKey = "sk-right" }).CaptionAsync(new CaptionJob(path), null, default);
        Assert.StartsWith("Red", ok.Caption);
        var e = await Assert.ThrowsAsync<CaptionException>(() => Engine(server, new CaptionSettings { ApiKey = "sk-wrong" }).CaptionAsync(new CaptionJob(path), null, default));
        Assert.Equal(CaptionErrorCategory.AuthenticationError, e.Category);
        Assert.DoesNotContain("sk-wrong", e.Message);
        Assert.Equal("Bearer ***", Requests(server)[0]!["authorization"]!.GetValue<string>());
    }

    [Fact]
    public async Task Empty_final_answer_is_a_failure_and_length_is_truncated()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { Faults = [new FaultRule { Kind = "empty", ImageSize = "11x11" }] });
        using var folder = new TempFolder();
        var e = await Assert.ThrowsAsync<CaptionException>(() =>
            Engine(server).CaptionAsync(new CaptionJob(folder.Image("empty.png", new ImageSpec { Width = 11, Height = 11 })), null, default));
        Assert.Equal("EmptyCaption", e.ErrorId);

        CaptionResult cut = await Engine(server, new CaptionSettings { MaxTokens = 3 }).CaptionAsync(new CaptionJob(folder.Image("long.png", new ImageSpec())), null, default);
        Assert.Equal(CaptionStatus.Truncated, cut.Status);
        Assert.Equal("Red PNG image,", cut.Caption);
    }

    [Fact]
    public async Task Connection_refused_is_a_connection_error_after_retries()
    {
        int port;
        await using (RunningServer gone = await TestServerHost.StartAsync(new ServerOptions()))
        {
            port = gone.Address.Port;
        }

        using var folder = new TempFolder();
        var settings = new CaptionSettings { BaseUrl = $"http://127.0.0.1:{port}/v1", Model = "test", MaxRetries = 1 };
        var engine = new CaptionEngine(settings, new ImagePreparationOptions()) { RetryBaseDelay = TimeSpan.FromMilliseconds(10) };
        var e = await Assert.ThrowsAsync<CaptionException>(() => engine.CaptionAsync(new CaptionJob(folder.Image("a.png", new ImageSpec())), null, default));
        Assert.Equal("ConnectionFailed", e.ErrorId);
        Assert.Contains("Is the server started", e.Message);
    }

    [Fact]
    public async Task Timeout_is_reported_as_such()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { LatencyMs = 3000 });
        using var folder = new TempFolder();
        var settings = new CaptionSettings { Timeout = TimeSpan.FromSeconds(1), MaxRetries = 0 };
        var e = await Assert.ThrowsAsync<CaptionException>(() => Engine(server, settings).CaptionAsync(new CaptionJob(folder.Image("a.png", new ImageSpec())), null, default));
        Assert.Equal("RequestTimedOut", e.ErrorId);
    }

    /// <summary>Twelve images of two turns, four at a time, against llama-server's persona; the log lines said.</summary>
    private static async Task<List<string>> CaptionTwelveAsync(RunningServer server, CaptionSettings settings)
    {
        using var folder = new TempFolder();
        var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
        CaptionEngine engine = Engine(server, settings with { Prompts = ["Describe.", "Shorten."] });
        using var four = new SemaphoreSlim(4);
        CaptionResult[] results = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            await four.WaitAsync();
            try
            {
                return await engine.CaptionAsync(new CaptionJob(folder.Image($"{i}.png", new ImageSpec { Width = 20 + i, Height = 10 })), said.Enqueue, default);
            }
            finally
            {
                four.Release();
            }
        }));
        Assert.All(results, r => Assert.Equal(CaptionStatus.Succeeded, r.Status));
        Assert.Equal(24, Requests(server).Count);
        return said.ToList();
    }

    [Fact]
    public async Task A_server_that_closes_connections_after_streamed_answers_is_learned_from_without_a_retry()
    {
        // Not known in advance (no model list was read, as when a list is refused): the turns sent on connections
        // llama-server was closing are sent again at once, and no retry with a backoff is spent on them.
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { Persona = "llamacpp" });
        List<string> said = await CaptionTwelveAsync(server, new CaptionSettings());
        Assert.DoesNotContain(said, line => line.Contains("Retry", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_server_known_to_close_connections_after_streamed_answers_gets_a_fresh_one_for_every_request()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { Persona = "llamacpp" });
        List<string> said = await CaptionTwelveAsync(server, new CaptionSettings { ClosesAfterStream = [server.BaseUrl] });
        Assert.DoesNotContain(said, line => line.Contains("Retry", StringComparison.Ordinal) || line.Contains("sent again at once", StringComparison.Ordinal));
        Assert.All(Requests(server), entry => Assert.Equal("close", (string?)entry!["connection"]));
    }

    [Fact]
    public async Task Several_models_are_asked_at_once_and_their_results_come_in_the_models_order()
    {
        // Each request waits a second at the server: asked one after the other, the second model's request would
        // find nothing in flight; asked at once, it finds the first model's.
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { Models = ["alpha", "beta"], NamesModel = true, LatencyMs = 1000 });
        using var folder = new TempFolder();
        CaptionSettings[] perModel = [new() { BaseUrl = server.BaseUrl, Model = "alpha" }, new() { BaseUrl = server.BaseUrl, Model = "beta" }];
        var engine = new CaptionEngine(perModel, new ImagePreparationOptions());
        var job = new CaptionJob(folder.Image("a.png", new ImageSpec { Width = 30, Height = 20 }));

        (IReadOnlyList<CaptionResult> results, _) = await engine.ConverseAllAsync(job, await engine.PrepareAsync(job, null, default), TimeSpan.Zero, null, default);

        Assert.Equal(["alpha", "beta"], results.Select(r => r.Model));
        Assert.StartsWith("By beta: ", results[1].Caption);
        Assert.Equal(2, Requests(server).Max(entry => entry!["inFlight"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_model_that_fails_fails_the_image_with_its_own_error_and_stops_the_others()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions
        {
            Models = ["alpha", "beta"],
            NamesModel = true,
            Faults = [new FaultRule { Kind = "delay", DelayMs = 30_000, Model = "alpha" }, new FaultRule { Kind = "status", Status = 400, Model = "beta" }],
        });
        using var folder = new TempFolder();
        CaptionSettings[] perModel = [new() { BaseUrl = server.BaseUrl, Model = "alpha" }, new() { BaseUrl = server.BaseUrl, Model = "beta" }];
        var engine = new CaptionEngine(perModel, new ImagePreparationOptions());
        var job = new CaptionJob(folder.Image("a.png", new ImageSpec()));
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var e = await Assert.ThrowsAsync<CaptionException>(async () => await engine.ConverseAllAsync(job, await engine.PrepareAsync(job, null, default), TimeSpan.Zero, null, bound.Token));

        Assert.Equal(400, e.StatusCode);
        Assert.False(bound.IsCancellationRequested, "alpha's request, held 30 s at the server, was stopped when beta failed, not waited for");
    }

    [Fact]
    public async Task Images_are_prepared_ahead_while_the_conversations_wait_and_no_further()
    {
        // The first request sleeps 10 s at the server, and the checks below wait up to 9 s for what they expect:
        // long enough for a machine busy with the rest of the suite (2.5 s was not), and no longer than needed.
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { LatencyMs = 10_000 });
        using var folder = new TempFolder();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var batch = new CaptionBatch(Engine(server), 1, cancel.Token) { LookAhead = 3 };
        int started = 0;
        for (int i = 0; i < 8 && batch.HasSlot; i++)
        {
            batch.Start(new CaptionJob(folder.Image($"{i}.png", new ImageSpec { Width = 30 + i, Height = 10 })));
            started++;
        }

        // One conversation and three prepared ahead may be in flight: the fifth image waits for a slot.
        Assert.Equal(4, started);
        Assert.False(batch.HasSlot);

        // While the first request sleeps at the server, the other three are prepared and wait; none is sent.
        int prepared = 0;
        var clock = Stopwatch.StartNew();
        while ((prepared < 4 || server.State.InFlight == 0) && clock.Elapsed < TimeSpan.FromSeconds(9))
        {
            if (batch.TryTake(TimeSpan.FromMilliseconds(20), out CaptionEvent? next) && next!.Kind == CaptionEventKind.Message && next.Text.StartsWith("Prepared", StringComparison.Ordinal))
            {
                prepared++;
            }
        }

        Assert.Equal(4, prepared);
        Assert.Equal(1, server.State.InFlight);
        cancel.Cancel();
    }

    [Fact]
    public async Task Batch_keeps_the_throttle_limit_in_flight_and_reports_every_image()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { LatencyMs = 100, Faults = [new FaultRule { Kind = "status", Status = 400, ImageSize = "13x7" }] });
        using var folder = new TempFolder();
        var paths = Enumerable.Range(0, 20).Select(i => folder.Image($"{i:00}.png", new ImageSpec { Width = 20 + i, Height = 10 })).ToList();
        paths.Add(folder.Image("bad.png", new ImageSpec { Width = 13, Height = 7 }));
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var batch = new CaptionBatch(Engine(server), 4, cancel.Token);
        var completed = new List<CaptionResult>();
        var failed = new List<CaptionEvent>();
        var clock = Stopwatch.StartNew();
        foreach (string path in paths)
        {
            while (!batch.HasSlot)
            {
                Collect(batch.Take());
            }

            batch.Start(new CaptionJob(path));
        }

        while (batch.InFlight > 0)
        {
            Collect(batch.Take());
        }

        Assert.Equal(20, completed.Count);
        Assert.All(completed, r => Assert.Contains($"{new FileInfo(r.Path).Name[..2].TrimStart('0') switch { "" => 20, var n => 20 + int.Parse(n) }}x10 pixels", r.Caption));
        Assert.Equal("bad.png", Path.GetFileName(Assert.Single(failed).Path));
        Assert.Equal(4, server.State.Stats().GetType().GetProperty("maxInFlight")!.GetValue(server.State.Stats()));

        void Collect(CaptionEvent e)
        {
            if (e.Kind == CaptionEventKind.Completed)
            {
                completed.Add(e.Result!);
            }
            else if (e.Kind == CaptionEventKind.Failed)
            {
                failed.Add(e);
            }
        }
    }
}
