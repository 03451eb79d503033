using System;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace VlmCaption.Transport
{
    /// <summary>Turns a failing HTTP response into a message a person can act on, without the key.</summary>
    internal static class ServerError
    {
        private const int MaxServerText = 400;

        /// <summary>
        /// The server's text as a message may show it: the key redacted first, then cut to a few hundred characters,
        /// so that no part of a key echoed late in a long text survives the cut.
        /// </summary>
        public static string Describe(string text, string apiKey) => Shorten(Redact(text, apiKey));

        /// <summary>
        /// The server's own error text, whole (the caller bounds what is read), in any of the shapes servers use: {"error": {"message"}} (OpenAI, Ollama,
        /// llama.cpp, LM Studio), {"error": "..."}, {"object": "error", "message"} (older vLLM, SGLang), Gemini's list
        /// [{"error": {...}}], FastAPI's {"detail": [{"loc", "msg"}]} (TabbyAPI, text-generation-webui, Mistral's
        /// message.detail) or KoboldCpp's {"detail": {"msg"}}; else the raw body.
        /// </summary>
        public static string ReadMessage(ReadOnlyMemory<byte> body)
        {
            if (body.IsEmpty)
            {
                return "";
            }

            try
            {
                using JsonDocument document = JsonDocument.Parse(body);
                if (FromElement(document.RootElement) is string text)
                {
                    return text.Trim();
                }
            }
            catch (JsonException)
            {
                // Not JSON: fall through to the raw text.
            }

            string raw = Encoding.UTF8.GetString(body.ToArray()).Trim();
            return HtmlPage(raw) ?? raw;
        }

        // A proxy or a web server in front of the API answers with an HTML page: its title says what the page
        // does, and the rest of it is markup no one should read in a terminal.
        private static string? HtmlPage(string text)
        {
            if (!text.StartsWith("<!DOCTYPE html", StringComparison.OrdinalIgnoreCase) && !text.StartsWith("<html", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            System.Text.RegularExpressions.Match title = System.Text.RegularExpressions.Regex.Match(text, "<title>([^<]{1,200})</title>", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
            if (title.Success)
            {
                return $"an HTML page titled '{System.Net.WebUtility.HtmlDecode(title.Groups[1].Value).Trim()}'";
            }

            // No title: its text, without the markup, as a few words.
            string words = System.Text.RegularExpressions.Regex.Replace(System.Text.RegularExpressions.Regex.Replace(text, "<[^>]*>", " "), "\\s+", " ").Trim();
            return System.Net.WebUtility.HtmlDecode(words.Length > 300 ? words.Substring(0, 300) + "…" : words);
        }

        /// <summary>Replaces every occurrence of the key, since servers sometimes echo it back.</summary>
        public static string Redact(string text, string apiKey) =>
            string.IsNullOrEmpty(apiKey) || string.IsNullOrEmpty(text) ? text : text.Replace(apiKey, "***");

        private static string? FromElement(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    return element.GetString();
                case JsonValueKind.Array:
                    return element.GetArrayLength() == 0 ? null : string.Join("; ", element.EnumerateArray().Select(Detail).Where(d => d.Length > 0));
                case JsonValueKind.Object:
                    foreach (string name in new[] { "error", "message", "detail", "msg" })
                    {
                        if (element.TryGetProperty(name, out JsonElement inner) && FromElement(inner) is string text && text.Length > 0)
                        {
                            return text;
                        }
                    }

                    return null;
                default:
                    return null;
            }
        }

        // One item of a list: FastAPI's {"type", "loc", "msg"} as "loc: msg (type)", else whatever text it holds.
        private static string Detail(JsonElement item)
        {
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("msg", out JsonElement msg) && msg.ValueKind == JsonValueKind.String)
            {
                string location = item.TryGetProperty("loc", out JsonElement loc) && loc.ValueKind == JsonValueKind.Array
                    ? string.Join(".", loc.EnumerateArray().Select(l => l.ValueKind == JsonValueKind.String ? l.GetString() : l.GetRawText())) + ": "
                    : "";
                string type = item.TryGetProperty("type", out JsonElement t) && t.ValueKind == JsonValueKind.String ? $" ({t.GetString()})" : "";
                return location + msg.GetString() + type;
            }

            return FromElement(item) ?? "";
        }

        private static string Shorten(string? text)
        {
            text = (text ?? "").Trim();
            return text.Length <= MaxServerText ? text : text.Substring(0, MaxServerText) + "…";
        }
    }
}
