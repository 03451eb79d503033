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

        /// <summary>The request body; the memory is the writer's own buffer, handed over without a copy.</summary>
        public static ReadOnlyMemory<byte> Write(CaptionSettings settings, IReadOnlyList<ChatMessage> messages)
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream, Options))
            {
                json.WriteStartObject();
                json.WriteString("model", settings.Model);
                json.WriteStartArray("messages");
                foreach (ChatMessage message in messages)
                {
                    WriteMessage(json, message);
                }

                json.WriteEndArray();
                json.WriteNumber(settings.UseMaxCompletionTokens ? "max_completion_tokens" : "max_tokens", settings.MaxTokens);
                if (settings.Temperature is double temperature)
                {
                    json.WriteNumber("temperature", temperature);
                }

                json.WriteBoolean("stream", false);
                json.WriteEndObject();
            }

            return new ReadOnlyMemory<byte>(stream.GetBuffer(), 0, (int)stream.Length);
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
                json.WriteStartObject();
                json.WriteString("type", "text");
                json.WriteString("text", message.Text);
                json.WriteEndObject();
                json.WriteStartObject();
                json.WriteString("type", "image_url");
                json.WriteStartObject("image_url");
                if (withImage)
                {
                    json.WritePropertyName("url");
                    json.WriteRawValue(message.Image.DataUriJson, skipInputValidation: true);
                }
                else
                {
                    json.WriteString("url", $"data:{message.Image.MediaType};base64,<{message.Image.ByteCount} bytes, {message.Image.Width}x{message.Image.Height}, not kept>");
                }

                json.WriteEndObject();
                json.WriteEndObject();
                json.WriteEndArray();
            }

            json.WriteEndObject();
        }
    }
}
