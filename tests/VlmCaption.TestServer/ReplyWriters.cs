using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VlmCaption.TestServer;

/// <summary>Writes a non-streaming chat completion, or its scripted corruption.</summary>
public static class JsonReplyWriter
{
    public static async Task WriteAsync(HttpContext context, Reply reply)
    {
        var choice = new JsonObject { ["index"] = 0, ["message"] = Message(reply), ["finish_reason"] = reply.FinishReason };
        if (reply.ChoiceError is string error)
        {
            choice["error"] = new JsonObject { ["code"] = 502, ["message"] = error };
        }

        var body = new JsonObject
        {
            ["id"] = $"chatcmpl-{reply.Number}",
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = reply.Model,
            ["choices"] = new JsonArray(choice),
            ["usage"] = UsageNode(reply.Usage, reply.Persona),
        };
        byte[] bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        context.Response.ContentType = "application/json";
        switch (reply.Fault)
        {
            case "malformed":
                await context.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                return;
            case "drop":
                // Promise the whole body, send half, then cut the connection.
                context.Response.ContentLength = bytes.Length;
                await context.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
            default:
                context.Response.ContentLength = bytes.Length;
                await context.Response.Body.WriteAsync(bytes);
                return;
        }
    }

    /// <summary>The assistant message, with reasoning where the persona puts it (or nowhere).</summary>
    private static JsonObject Message(Reply reply)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Content };
        if (reply.Reasoning is null || reply.Persona.ReasoningField is null)
        {
            return message;
        }

        if (reply.Persona.ReasoningField == "parts")
        {
            // Magistral: [{"type":"thinking","thinking":[{"type":"text","text":...}]}, {"type":"text","text":...}].
            var thinking = new JsonObject { ["type"] = "thinking", ["thinking"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = reply.Reasoning }) };
            message["content"] = new JsonArray(thinking, new JsonObject { ["type"] = "text", ["text"] = reply.Content });
            return message;
        }

        message[reply.Persona.ReasoningField] = reply.Reasoning;
        return message;
    }

    public static JsonObject UsageNode(Usage usage, Persona persona)
    {
        var node = new JsonObject
        {
            ["prompt_tokens"] = usage.PromptTokens,
            ["completion_tokens"] = usage.CompletionTokens,
            ["total_tokens"] = usage.PromptTokens + usage.CompletionTokens,
        };
        if (persona.ReasoningTokensOnly)
        {
            node["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.ReasoningTokens };
        }

        return node;
    }
}

/// <summary>Writes a streaming chat completion as server-sent events, one word a chunk.</summary>
public static class SseWriter
{
    public static async Task WriteAsync(HttpContext context, Reply reply, string[] words, bool includeUsage, double tokenLatencyMs, int stallMs, Action? answered = null)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await SendAsync(context, Chunk(reply, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null));
        if (reply.Reasoning is not null && reply.Persona.ReasoningField is string field && field != "parts")
        {
            await SendAsync(context, Chunk(reply, new JsonObject { [field] = reply.Reasoning }, null));
        }

        for (int i = 0; i < words.Length; i++)
        {
            if (reply.Fault == "drop" && i == words.Length / 2)
            {
                context.Abort();
                return;
            }

            if (i == words.Length / 2)
            {
                switch (reply.Fault)
                {
                    case "stall":
                        // Silent mid-answer: the headers and half the answer are out, then nothing.
                        await Task.Delay(stallMs, context.RequestAborted);
                        break;
                    case "stream-error":
                        // LM Studio sends errors that arise mid-answer as an event of their own, then ends the stream.
                        await SendAsync(context, new JsonObject { ["error"] = new JsonObject { ["message"] = "Model crashed while generating (exit code 139)." } });
                        return;
                    case "no-done":
                        return;
                }
            }

            if (tokenLatencyMs > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(tokenLatencyMs), context.RequestAborted);
            }

            string piece = i == 0 ? words[i] : " " + words[i];
            await SendAsync(context, Chunk(reply, new JsonObject { ["content"] = piece }, null));
        }

        if (reply.Fault == "malformed")
        {
            await context.Response.WriteAsync("data: {\"choices\": [\n\n");
        }

        // The answer is complete: the server's place is free before the client can see the end.
        answered?.Invoke();
        var last = Chunk(reply, new JsonObject(), reply.FinishReason);
        if (reply.ChoiceError is string error)
        {
            // OpenRouter: a provider failure mid-stream is a chunk with finish_reason "error" and choices[].error.
            last["choices"]![0]!["error"] = new JsonObject { ["code"] = 502, ["message"] = error };
        }

        await SendAsync(context, last);
        if (includeUsage)
        {
            var usage = new JsonObject
            {
                ["id"] = $"chatcmpl-{reply.Number}",
                ["object"] = "chat.completion.chunk",
                ["model"] = reply.Model,
                ["choices"] = new JsonArray(),
                ["usage"] = JsonReplyWriter.UsageNode(reply.Usage, reply.Persona),
            };
            await SendAsync(context, usage);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n");
        if (reply.Persona.ClosesAfterStream)
        {
            // The headers are out (Keep-Alive), so Kestrel adds no "Connection: close": it ends the response and
            // closes the connection, as llama-server does.
            await context.Response.CompleteAsync();
            context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }
    }

    private static JsonObject Chunk(Reply reply, JsonObject delta, string? finishReason) => new()
    {
        ["id"] = $"chatcmpl-{reply.Number}",
        ["object"] = "chat.completion.chunk",
        ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["model"] = reply.Model,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
    };

    private static async Task SendAsync(HttpContext context, JsonNode data)
    {
        await context.Response.WriteAsync("data: " + data.ToJsonString(new JsonSerializerOptions()) + "\n\n");
        await context.Response.Body.FlushAsync();
    }
}

/// <summary>An answer of a given size, written in pieces so that the server itself holds little of it.</summary>
public static class HugeReplyWriter
{
    public static async Task WriteAsync(HttpContext context, Reply reply, long bytes, bool stream)
    {
        string piece = new string('x', 65536);
        if (stream)
        {
            context.Response.ContentType = "text/event-stream";
            for (long sent = 0; sent < bytes && !context.RequestAborted.IsCancellationRequested; sent += piece.Length)
            {
                string chunk = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + piece + "\"},\"finish_reason\":null}]}\n\n";
                await context.Response.WriteAsync(chunk, context.RequestAborted);
            }

            await context.Response.WriteAsync("data: [DONE]\n\n");
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync($"{{\"id\":\"chatcmpl-{reply.Number}\",\"object\":\"chat.completion\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"", context.RequestAborted);
        for (long sent = 0; sent < bytes && !context.RequestAborted.IsCancellationRequested; sent += piece.Length)
        {
            await context.Response.WriteAsync(piece, context.RequestAborted);
        }

        await context.Response.WriteAsync("\"},\"finish_reason\":\"stop\"}]}");
    }
}
