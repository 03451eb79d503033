using System.Text.Json.Nodes;

namespace VlmCaption.TestServer;

/// <summary>
/// What a server constraining its answer to a JSON schema sends back (OpenAI structured outputs, vLLM and
/// llama-server's grammar from the schema, Ollama's format): an object of the schema's shape. The values stand in for
/// what a model would see: a text names the image's colour and its field, so a test can tell which image and which
/// field it came from; a list of text holds the colour twice and one underscored word, for the tag rules.
/// </summary>
public static class SchemaAnswer
{
    /// <summary>Where the client says in its prompt which schema to answer with (VlmCaption's CaptionSchema.Instruction).</summary>
    public const string PromptMarker = "matching this JSON schema:\n";

    public static string For(JsonObject schema, string colour) => Value(schema, "value", colour, 0)?.ToJsonString() ?? "{}";

    /// <summary>The schema a prompt states after <see cref="PromptMarker"/>, or null.</summary>
    public static JsonObject? FromPrompt(string text)
    {
        int at = text.IndexOf(PromptMarker, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text[(at + PromptMarker.Length)..].Trim()) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static JsonNode? Value(JsonNode? schema, string name, string colour, int depth)
    {
        if (depth > 16)
        {
            return null;
        }

        if (schema?["enum"] is JsonArray choices && choices.Count > 0)
        {
            return choices[0]?.DeepClone();
        }

        string type = schema?["type"] switch
        {
            JsonArray types when types.Count > 0 => types[0]?.GetValue<string>() ?? "string",
            JsonValue one => one.GetValue<string>(),
            _ => schema?["properties"] is JsonObject ? "object" : "string",
        };
        switch (type)
        {
            case "object":
                var item = new JsonObject();
                if (schema?["properties"] is JsonObject properties)
                {
                    foreach (var (field, fieldSchema) in properties)
                    {
                        item[field] = Value(fieldSchema, field, colour, depth + 1);
                    }
                }

                return item;
            case "array":
                JsonNode? items = schema?["items"];
                bool text = items?["type"]?.GetValue<string>() is null or "string" && items?["enum"] is null;
                return text
                    ? new JsonArray(JsonValue.Create(colour), JsonValue.Create(colour), JsonValue.Create($"{name}_one"))
                    : new JsonArray(Value(items, name, colour, depth + 1), Value(items, name, colour, depth + 1));
            case "integer":
                return JsonValue.Create(1);
            case "number":
                return JsonValue.Create(0.5);
            case "boolean":
                return JsonValue.Create(true);
            case "null":
                return null;
            default:
                return JsonValue.Create($"{colour} {name}");
        }
    }
}
