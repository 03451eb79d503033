// MinimalClient <base_url> <model> <folder> <throttle> <prompts> <max_tokens> <stream|nostream>
// Captions every PNG in the folder as the module does (the image with the first prompt, the whole history with each
// later one), with <throttle> conversations at once, and prints "wall <s> cpu <s> run <s>" (run: the CPU from the first request on). Nothing is checked or written.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

string baseUrl = args[0].TrimEnd('/');
string model = args[1];
string[] images = Directory.GetFiles(args[2], "*.png").OrderBy(f => f, StringComparer.Ordinal).ToArray();
int throttle = int.Parse(args[3]);
int prompts = int.Parse(args[4]);
int maxTokens = int.Parse(args[5]);
bool stream = args[6] == "stream";

using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
int next = -1;
var clock = Stopwatch.StartNew();
double before = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
TimeSpan jitBefore = System.Runtime.JitInfo.GetCompilationTime();
long methodsBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
await Task.WhenAll(Enumerable.Range(0, throttle).Select(_ => Task.Run(ConverseAll)));
double cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
Console.WriteLine($"wall {clock.Elapsed.TotalSeconds:0.000} cpu {cpu:0.000} run {cpu - before:0.000} jit {(System.Runtime.JitInfo.GetCompilationTime() - jitBefore).TotalSeconds:0.000} methods {System.Runtime.JitInfo.GetCompiledMethodCount() - methodsBefore}");

async Task ConverseAll()
{
    for (int i; (i = Interlocked.Increment(ref next)) < images.Length;)
    {
        string image = "data:image/png;base64," + Convert.ToBase64String(await File.ReadAllBytesAsync(images[i]));
        var messages = new JsonArray();
        for (int turn = 1; turn <= prompts; turn++)
        {
            JsonNode content = turn == 1
                ? new JsonArray(new JsonObject { ["type"] = "text", ["text"] = $"Prompt {turn}." }, new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = image } })
                : JsonValue.Create($"Prompt {turn}.")!;
            messages.Add(new JsonObject { ["role"] = "user", ["content"] = content });
            string answer = await AskAsync(messages);
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = answer });
        }
    }
}

async Task<string> AskAsync(JsonArray messages)
{
    var body = new JsonObject { ["model"] = model, ["messages"] = messages.DeepClone(), ["max_tokens"] = maxTokens, ["stream"] = stream };
    using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + "/chat/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
    // llama-server closes the connection after every streamed answer though it says Keep-Alive (the module learns
    // this from the first one and then asks the same): a new connection for each request.
    request.Headers.ConnectionClose = true;
    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    response.EnsureSuccessStatusCode();
    if (!stream)
    {
        using var whole = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        return whole.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "";
    }

    // Server-sent events: a "data: {chunk}" line per token, then "data: [DONE]".
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
    var text = new StringBuilder();
    while (await reader.ReadLineAsync() is string line)
    {
        if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
        if (line == "data: [DONE]") break;
        using var chunk = JsonDocument.Parse(line.AsMemory(6));
        foreach (JsonElement choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
        {
            if (choice.TryGetProperty("delta", out JsonElement delta) && delta.TryGetProperty("content", out JsonElement part) && part.ValueKind == JsonValueKind.String)
            {
                text.Append(part.GetString());
            }
        }
    }

    return text.ToString();
}
