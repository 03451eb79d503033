using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using VlmCaption.TestServer;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>The reference server itself: every other test trusts what it says.</summary>
public class ReferenceServerTests
{
    private static readonly HttpClient Http = new();

    private static string DataUri(ImageSpec spec, string declared = "image/png") =>
        $"data:{declared};base64,{Convert.ToBase64String(ImageFactory.Make(spec))}";

    private static JsonObject Request(string text, string? image, bool stream = false, int? maxTokens = null)
    {
        var content = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text });
        if (image is not null)
        {
            content.Add(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = image } });
        }

        var body = new JsonObject { ["model"] = "test", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }) };
        if (stream)
        {
            body["stream"] = true;
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        if (maxTokens is int m)
        {
            body["max_tokens"] = m;
        }

        return body;
    }

    private static Task<HttpResponseMessage> PostAsync(RunningServer server, JsonObject body, string? key = null)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, server.BaseUrl + "/chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            message.Headers.Authorization = new("Bearer", key);
        }

        return Http.SendAsync(message);
    }

    [Fact]
    public async Task Answer_states_the_measured_image_and_the_text_digest()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions());
        using HttpResponseMessage response = await PostAsync(server, Request("Describe.", DataUri(new ImageSpec { Width = 30, Height = 20, Color = "cyan" }, "image/jpeg")));
        JsonNode answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal($"Cyan PNG image, 30x20 pixels. Turn 1. Text {ChatHandler.Digest("Describe.")}.", answer["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("stop", answer["choices"]![0]!["finish_reason"]!.GetValue<string>());
        JsonNode logged = server.State.SettledLog()[0]!;
        Assert.Equal("image/jpeg", logged["image"]!["declaredType"]!.GetValue<string>());
        Assert.Equal("image/png", logged["image"]!["mimeType"]!.GetValue<string>());
        Assert.DoesNotContain("base64,iVBOR", logged.ToJsonString());
    }

    [Fact]
    public async Task Streaming_sends_chunks_then_finish_then_usage_then_done()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions());
        using HttpResponseMessage response = await PostAsync(server, Request("x", DataUri(new ImageSpec()), stream: true, maxTokens: 3));
        string[] events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("data: [DONE]", events[^1]);
        JsonNode usage = JsonNode.Parse(events[^2]["data: ".Length..])!;
        Assert.Equal(3, usage["usage"]!["completion_tokens"]!.GetValue<int>());
        JsonNode finish = JsonNode.Parse(events[^3]["data: ".Length..])!;
        Assert.Equal("length", finish["choices"]![0]!["finish_reason"]!.GetValue<string>());
        string text = string.Concat(events[..^3].Select(e => JsonNode.Parse(e["data: ".Length..])!["choices"]![0]!["delta"]!["content"]?.GetValue<string>()));
        Assert.Equal("Red PNG image,", text);
    }

    [Fact]
    public async Task Required_key_gives_401_without_it_and_the_log_never_holds_it()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { ApiKey = "sk-sentinel-123" });
        using HttpResponseMessage denied = await PostAsync(server, Request("x", null));
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        using HttpResponseMessage allowed = await PostAsync(server, Request("x", null), "sk-sentinel-123");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.DoesNotContain("sk-sentinel-123", server.State.SettledLog().ToJsonString());
    }

    [Fact]
    public async Task Faults_fire_by_request_number_and_times()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions
        {
            Faults = [new FaultRule { Kind = "status", Status = 503, RetryAfter = 2, Requests = [2] }, new FaultRule { Kind = "malformed", Times = 1 }],
        });
        using HttpResponseMessage first = await PostAsync(server, Request("x", null));
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => JsonNode.Parse(first.Content.ReadAsStringAsync().Result));
        using HttpResponseMessage second = await PostAsync(server, Request("x", null));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal("2", second.Headers.GetValues("Retry-After").Single());
        using HttpResponseMessage third = await PostAsync(server, Request("x", null));
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.NotNull(JsonNode.Parse(await third.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Dropped_connection_fails_the_read()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { Faults = [new FaultRule { Kind = "drop" }] });
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using HttpResponseMessage response = await PostAsync(server, Request("x", null));
            await response.Content.ReadAsStringAsync();
        });
    }

    [Fact]
    public async Task Strict_media_type_rejects_a_mislabelled_image()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { StrictMediaType = true });
        using HttpResponseMessage response = await PostAsync(server, Request("x", DataUri(new ImageSpec(), "image/jpeg")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("really image/png", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Concurrency_cap_makes_requests_wait()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { MaxConcurrent = 2, LatencyMs = 100 });
        await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ => (await PostAsync(server, Request("x", null))).Dispose()));
        Assert.Equal(2, server.State.Stats().GetType().GetProperty("maxInFlight")!.GetValue(server.State.Stats()));
    }

    [Fact]
    public async Task Undecodable_image_is_a_400_with_the_reason()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions());
        using HttpResponseMessage response = await PostAsync(server, Request("x", "data:image/png;base64," + Convert.ToBase64String(Encoding.ASCII.GetBytes("not an image"))));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("could not decode image", await response.Content.ReadAsStringAsync());
    }
}
