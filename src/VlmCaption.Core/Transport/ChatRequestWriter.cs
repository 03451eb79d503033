using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace VlmCaption.Transport
{
    /// <summary>Writes the JSON body of a chat completion request exactly as the original tool lays it out.</summary>
    internal static class ChatRequestWriter
    {
        // Models read non-ASCII text and '<', '>' better verbatim than as \uXXXX escapes.
        private static readonly JsonWriterOptions Options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        /// <summary>
        /// The request body for one endpoint, as its quirks say; the memory is the writer's own buffer, handed over
        /// without a copy. Nothing is sent that the settings do not ask for (Gemini and Mistral refuse unknown fields);
        /// the extra body's fields come last and replace ours of the same name.
        /// </summary>
        public static ReadOnlyMemory<byte> Write(CaptionSettings settings, EndpointQuirks quirks, IReadOnlyList<ChatMessage> messages, bool asksSchema = false)
        {
            IReadOnlyDictionary<string, object?> extra = settings.ExtraBody;
            bool Ours(string name) => !extra.ContainsKey(name);
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream, Options))
            {
                json.WriteStartObject();
                if (Ours("model"))
                {
                    json.WriteString("model", quirks.Model);
                }

                json.WriteStartArray("messages");
                foreach (ChatMessage message in messages)
                {
                    WriteMessage(json, message);
                }

                json.WriteEndArray();
                string limitField = quirks.UseMaxCompletionTokens ? "max_completion_tokens" : "max_tokens";
                if (Ours(limitField))
                {
                    json.WriteNumber(limitField, quirks.MaxTokens);
                }

                if (settings.Temperature is double temperature && quirks.SendsTemperature && Ours("temperature"))
                {
                    json.WriteNumber("temperature", temperature);
                }

                if (settings.ReasoningEffort is string effort && Ours("reasoning_effort"))
                {
                    json.WriteString("reasoning_effort", effort);
                }

                if (Ours("stream"))
                {
                    json.WriteBoolean("stream", quirks.Streams);
                }

                if (quirks.Streams && quirks.SendsStreamOptions && Ours("stream_options"))
                {
                    json.WriteStartObject("stream_options");
                    json.WriteBoolean("include_usage", true);
                    json.WriteEndObject();
                }

                if (asksSchema && settings.Schema is Structured.CaptionSchema schema && quirks.SendsResponseFormat && Ours("response_format"))
                {
                    // OpenAI's structured outputs; vLLM, LM Studio, llama-server (server-common.cpp takes
                    // json_schema.schema), Ollama's OpenAI layer, Gemini and Mistral read the same shape.
                    json.WriteStartObject("response_format");
                    json.WriteString("type", "json_schema");
                    json.WriteStartObject("json_schema");
                    json.WriteString("name", "caption");
                    json.WritePropertyName("schema");
                    json.WriteRawValue(schema.Text, skipInputValidation: true);
                    json.WriteEndObject();
                    json.WriteEndObject();
                }

                foreach (KeyValuePair<string, object?> field in extra)
                {
                    json.WritePropertyName(field.Key);
                    WriteValue(json, field.Value);
                }

                json.WriteEndObject();
            }

            return new ReadOnlyMemory<byte>(stream.GetBuffer(), 0, (int)stream.Length);
        }

        /// <summary>Plain data (dictionaries, lists, scalars) as compact JSON.</summary>
        internal static string ToJson(object? value)
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream, Options))
            {
                WriteValue(json, value);
            }

            return System.Text.Encoding.UTF8.GetString(stream.ToArray());
        }

        /// <summary>A value of the extra body: dictionaries as objects, lists as arrays, numbers, booleans, text, null.</summary>
        private static void WriteValue(Utf8JsonWriter json, object? value)
        {
            switch (value)
            {
                case null:
                    json.WriteNullValue();
                    break;
                case string text:
                    json.WriteStringValue(text);
                    break;
                case bool flag:
                    json.WriteBooleanValue(flag);
                    break;
                case int or long or short or byte or sbyte or uint or ulong or ushort:
                    json.WriteNumberValue(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case float or double or decimal:
                    json.WriteNumberValue(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case System.Collections.IDictionary map:
                    json.WriteStartObject();
                    foreach (System.Collections.DictionaryEntry entry in map)
                    {
                        json.WritePropertyName(entry.Key?.ToString() ?? "");
                        WriteValue(json, entry.Value);
                    }

                    json.WriteEndObject();
                    break;
                case System.Collections.IEnumerable list:
                    json.WriteStartArray();
                    foreach (object? item in list)
                    {
                        WriteValue(json, item);
                    }

                    json.WriteEndArray();
                    break;
                default:
                    json.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
            }
        }

        /// <summary>The message list as indented JSON for a chat-history file, the image data replaced by a short placeholder.</summary>
        public static string WriteHistory(IReadOnlyList<ChatMessage> messages)
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = Options.Encoder, Indented = true }))
            {
                json.WriteStartArray();
                foreach (ChatMessage message in messages)
                {
                    WriteMessage(json, message, withImage: false);
                }

                json.WriteEndArray();
            }

            return System.Text.Encoding.UTF8.GetString(stream.ToArray());
        }

        private static string Seconds(double seconds) => seconds.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) + " s";

        private static void WriteText(Utf8JsonWriter json, string text)
        {
            json.WriteStartObject();
            json.WriteString("type", "text");
            json.WriteString("text", text);
            json.WriteEndObject();
        }

        private static void WriteImage(Utf8JsonWriter json, Images.PreparedImage image, bool withImage, string type = "image_url")
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteStartObject(type);
            if (withImage)
            {
                json.WritePropertyName("url");
                json.WriteRawValue(image.DataUriJson, skipInputValidation: true);
            }
            else
            {
                json.WriteString("url", $"data:{image.MediaType};base64,<{image.ByteCount} bytes, {image.Width}x{image.Height}, not kept>");
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        private static void WriteMessage(Utf8JsonWriter json, ChatMessage message, bool withImage = true)
        {
            json.WriteStartObject();
            json.WriteString("role", message.Role);
            if (message.Image is null)
            {
                json.WriteString("content", message.Text);
            }
            else
            {
                json.WriteStartArray("content");
                WriteText(json, message.Text);
                if (message.Image.IsVideo)
                {
                    WriteText(json, $"The video that follows is a clip of {Seconds(message.Image.ClipSeconds ?? 0)}.");
                    WriteImage(json, message.Image, withImage, "video_url");
                }
                else if (message.Image.Frames.Count == 0)
                {
                    WriteImage(json, message.Image, withImage);
                }
                else
                {
                    // A clip: its frames in order, each after a line that says which it is and when, so a model
                    // that reads every image as a still knows they are one clip.
                    int count = message.Image.Frames.Count;
                    WriteText(json, $"The {count} images that follow are frames of one video clip of {Seconds(message.Image.ClipSeconds ?? 0)}, in order.");
                    for (int i = 0; i < count; i++)
                    {
                        WriteText(json, $"Frame {i + 1} of {count}, at {Seconds(message.Image.Frames[i].Seconds)}:");
                        WriteImage(json, message.Image.Frames[i].Image, withImage);
                    }
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }
    }
}
