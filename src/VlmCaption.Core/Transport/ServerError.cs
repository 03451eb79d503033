using System;
using System.Text;
using System.Text.Json;

namespace VlmCaption.Transport
{
    /// <summary>Turns a failing HTTP response into a message a person can act on, without the key.</summary>
    internal static class ServerError
    {
        private const int MaxServerText = 400;

        /// <summary>The server's own error text: error.message, error, message or detail, else the raw body.</summary>
        public static string ReadMessage(ReadOnlyMemory<byte> body)
        {
            if (body.IsEmpty)
            {
                return "";
            }

            try
            {
                using JsonDocument document = JsonDocument.Parse(body);
                JsonElement root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Object)
                {
                    if (root.TryGetProperty("error", out JsonElement error))
                    {
                        if (error.ValueKind == JsonValueKind.String)
                        {
                            return Shorten(error.GetString());
                        }

                        if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out JsonElement nested) && nested.ValueKind == JsonValueKind.String)
                        {
                            return Shorten(nested.GetString());
                        }
                    }

                    foreach (string name in new[] { "message", "detail" })
                    {
                        if (root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String)
                        {
                            return Shorten(value.GetString());
                        }
                    }
                }
            }
            catch (JsonException)
            {
                // Not JSON: fall through to the raw text.
            }

            return Shorten(Encoding.UTF8.GetString(body.ToArray()));
        }

        /// <summary>Replaces every occurrence of the key, since servers sometimes echo it back.</summary>
        public static string Redact(string text, string apiKey) =>
            string.IsNullOrEmpty(apiKey) ? text : text.Replace(apiKey, "***");

        private static string Shorten(string? text)
        {
            text = (text ?? "").Trim();
            return text.Length <= MaxServerText ? text : text.Substring(0, MaxServerText) + "…";
        }
    }
}
