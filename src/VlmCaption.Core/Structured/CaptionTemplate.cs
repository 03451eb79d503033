using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;

namespace VlmCaption.Structured
{
    /// <summary>
    /// Renders a structured caption as text by a template: {field} is the field's value, {a.b} a nested field's,
    /// a list's items are joined with ", ", a field that is missing or null is empty, {{ and }} are braces. Without a
    /// template the caption is the object's compact JSON, which trainers that read JSON captions take as it is.
    /// </summary>
    public static class CaptionTemplate
    {
        /// <summary>The text of <paramref name="data"/> by <paramref name="template"/> (null or empty: compact JSON).</summary>
        public static string Render(string? template, JsonObject data)
        {
            if (string.IsNullOrEmpty(template))
            {
                return data.ToJsonString();
            }

            var text = new StringBuilder(template!.Length * 2);
            for (int i = 0; i < template.Length; i++)
            {
                char c = template[i];
                if ((c == '{' || c == '}') && i + 1 < template.Length && template[i + 1] == c)
                {
                    text.Append(c);
                    i++;
                    continue;
                }

                int close = c == '{' ? template.IndexOf('}', i + 1) : -1;
                if (close < 0)
                {
                    text.Append(c);
                    continue;
                }

                text.Append(Value(Find(data, template.Substring(i + 1, close - i - 1).Trim())));
                i = close;
            }

            return text.ToString().Trim();
        }

        private static JsonNode? Find(JsonObject data, string path)
        {
            JsonNode? node = data;
            foreach (string name in path.Split('.'))
            {
                node = node is JsonObject map && map.TryGetPropertyValue(name, out JsonNode? next) ? next : null;
            }

            return node;
        }

        private static string Value(JsonNode? node) => node switch
        {
            null => "",
            JsonArray list => string.Join(", ", list.Select(Value).Where(item => item.Length > 0)),
            JsonObject map => map.ToJsonString(),
            JsonValue value when value.TryGetValue(out string? text) => text ?? "",
            _ => node.ToJsonString(),
        };
    }
}
