using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VlmCaption.TestServer;

/// <summary>Every request the server received, in memory and optionally as JSON lines; never the key or image bytes.</summary>
public sealed class RequestLog(string? path)
{
    // Readable lines: non-ASCII text and '<' stay as they are.
    public static readonly JsonSerializerOptions Format = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ConcurrentQueue<JsonObject> entries = new();
    private readonly Lock fileLock = new();

    public void Add(JsonObject entry)
    {
        entries.Enqueue(entry);
        if (path is not null)
        {
            string line = entry.ToJsonString(Format);
            lock (fileLock)
            {
                File.AppendAllText(path, line + "\n");
            }
        }
    }

    public JsonArray Snapshot() => new(entries.Select(e => (JsonNode)e.DeepClone()).ToArray());

    public void Clear() => entries.Clear();
}
