#pragma warning disable OPENAI001 // The SDK marks its batch client experimental.
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Batch;
using OpenAI.Files;
using VlmCaption.TestServer;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>The reference server's Batch API, driven by the OpenAI SDK's own file and batch clients over HTTP.</summary>
public class BatchApiTests
{
    private static OpenAIClientOptions Options(RunningServer server) => new() { Endpoint = new Uri(server.BaseUrl) };

    private static string Line(string customId, string path) => new JsonObject
    {
        ["custom_id"] = customId,
        ["method"] = "POST",
        ["url"] = "/v1/chat/completions",
        ["body"] = Body(path),
    }.ToJsonString();

    private static JsonObject Body(string path) => new()
    {
        ["model"] = "test",
        ["max_tokens"] = 100,
        ["messages"] = new JsonArray(new JsonObject
        {
            ["role"] = "user",
            ["content"] = new JsonArray(
                new JsonObject { ["type"] = "text", ["text"] = "Describe the image." },
                new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(path)) } }),
        }),
    };

    /// <summary>Uploads the lines, creates the batch, and polls it (every 50 ms, 20 s at most) until it ends.</summary>
    private static async Task<(JsonNode Batch, OpenAIFileClient Files, CreateBatchOperation Operation)> RunAsync(RunningServer server, IEnumerable<string> lines, bool cancel = false)
    {
        var files = new OpenAIFileClient(new ApiKeyCredential("sk-test"), Options(server));
        OpenAIFile input = await files.UploadFileAsync(BinaryData.FromString(string.Join("\n", lines) + "\n"), "round1.jsonl", FileUploadPurpose.Batch);
        var batches = new BatchClient(new ApiKeyCredential("sk-test"), new BatchClientOptions { Endpoint = new Uri(server.BaseUrl) });
        string request = new JsonObject { ["input_file_id"] = input.Id, ["endpoint"] = "/v1/chat/completions", ["completion_window"] = "24h" }.ToJsonString();
        CreateBatchOperation operation = await batches.CreateBatchAsync(BinaryContent.Create(BinaryData.FromString(request)), waitUntilCompleted: false);
        if (cancel)
        {
            await operation.CancelAsync(new RequestOptions());
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            ClientResult result = await operation.GetBatchAsync(new RequestOptions());
            JsonNode batch = JsonNode.Parse(result.GetRawResponse().Content.ToString())!;
            string status = batch["status"]!.GetValue<string>();
            if (status is "completed" or "failed" or "expired" or "cancelled" || clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                return (batch, files, operation);
            }

            await Task.Delay(50);
        }
    }

    private static async Task<List<JsonNode>> LinesOf(OpenAIFileClient files, string id) =>
        (await files.DownloadFileAsync(id)).Value.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();

    [Fact]
    public async Task A_batch_answers_each_request_as_the_live_endpoint_does()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { BatchStepMs = 20 });
        using var folder = new TempFolder();
        string[] images = Enumerable.Range(0, 3).Select(i => folder.Image($"{i}.png", new ImageSpec { Width = 30 + i, Height = 10 })).ToArray();

        var (batch, files, _) = await RunAsync(server, images.Select((path, i) => Line($"img-{i}", path)));

        Assert.Equal("completed", batch["status"]!.GetValue<string>());
        Assert.Equal(3, batch["request_counts"]!["completed"]!.GetValue<int>());
        Assert.Null(batch["error_file_id"]);
        List<JsonNode> output = await LinesOf(files, batch["output_file_id"]!.GetValue<string>());
        Assert.Equal(["img-0", "img-1", "img-2"], output.Select(l => l["custom_id"]!.GetValue<string>()).Order());
        using var http = new HttpClient();
        foreach (JsonNode line in output)
        {
            int i = int.Parse(line["custom_id"]!.GetValue<string>()[4..]);
            Assert.Equal(200, line["response"]!["status_code"]!.GetValue<int>());
            var live = await http.PostAsync(server.BaseUrl + "/chat/completions", new StringContent(Body(images[i]).ToJsonString(), Encoding.UTF8, "application/json"));
            string expected = JsonNode.Parse(await live.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!["content"]!.GetValue<string>();
            Assert.Equal(expected, line["response"]!["body"]!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
            Assert.StartsWith($"Red PNG image, {30 + i}x10 pixels.", expected);
        }
    }

    [Fact]
    public async Task A_batch_with_a_repeated_custom_id_fails_validation_with_the_line()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { BatchStepMs = 20 });
        using var folder = new TempFolder();
        string image = folder.Image("a.png", new ImageSpec());
        var (batch, _, _) = await RunAsync(server, [Line("same", image), Line("same", image)]);
        Assert.Equal("failed", batch["status"]!.GetValue<string>());
        JsonNode error = batch["errors"]!["data"]![0]!;
        Assert.Equal("duplicate_custom_id", error["code"]!.GetValue<string>());
        Assert.Equal(2, error["line"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_expired_batch_keeps_what_was_done_and_reports_the_rest_as_expired()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { BatchStepMs = 20, BatchFault = "expire" });
        using var folder = new TempFolder();
        string[] images = Enumerable.Range(0, 4).Select(i => folder.Image($"{i}.png", new ImageSpec { Width = 40 + i })).ToArray();
        var (batch, files, _) = await RunAsync(server, images.Select((path, i) => Line($"img-{i}", path)));
        Assert.Equal("expired", batch["status"]!.GetValue<string>());
        Assert.Equal(2, (await LinesOf(files, batch["output_file_id"]!.GetValue<string>())).Count);
        List<JsonNode> errors = await LinesOf(files, batch["error_file_id"]!.GetValue<string>());
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Equal("batch_expired", e["error"]!["code"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_cancelled_batch_ends_cancelled_and_a_failed_request_goes_to_the_error_file()
    {
        await using RunningServer server = await TestServerHost.StartAsync(new ServerOptions { BatchStepMs = 200 });
        using var folder = new TempFolder();
        string image = folder.Image("a.png", new ImageSpec());
        var (cancelled, _, _) = await RunAsync(server, [Line("a", image), Line("b", image)], cancel: true);
        Assert.Equal("cancelled", cancelled["status"]!.GetValue<string>());

        await using RunningServer failing = await TestServerHost.StartAsync(new ServerOptions { BatchStepMs = 20, Faults = [new FaultRule { Kind = "status", Status = 400, Requests = [2] }] });
        var (batch, files, _) = await RunAsync(failing, [Line("ok", image), Line("bad", image)]);
        Assert.Equal("completed", batch["status"]!.GetValue<string>());
        Assert.Equal(1, batch["request_counts"]!["failed"]!.GetValue<int>());
        JsonNode failed = Assert.Single(await LinesOf(files, batch["error_file_id"]!.GetValue<string>()));
        Assert.Equal(400, failed["response"]!["status_code"]!.GetValue<int>());
    }
}
