using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VlmCaption.Structured
{
    /// <summary>
    /// A structured caption after the model: its tags cleaned by the caption.yaml's tag rules, its text rendered
    /// again, and where it is kept beside the image (photo.caption.json; photo.json is the json hint's sidecar,
    /// which is input and never written).
    /// </summary>
    public static class StructuredCaption
    {
        /// <summary>The extension of the file that keeps a structured caption's object beside its caption file.</summary>
        public const string FileExtension = ".caption.json";

        /// <summary>The object file for the caption file <paramref name="captionPath"/>: photo.txt to photo.caption.json, photo.gemma.txt to photo.gemma.caption.json.</summary>
        public static string DataPath(string captionPath) => Path.ChangeExtension(captionPath, FileExtension);

        /// <summary>Plain data (dictionaries, lists, scalars) as compact JSON: an edited object, written back.</summary>
        public static string Json(object? plain) => Transport.ChatRequestWriter.ToJson(plain);

        /// <summary>The "tags" list of text of a structured caption's object; null when it has none.</summary>
        public static IReadOnlyList<string>? Tags(string? dataJson) =>
            TryParse(dataJson) is JsonObject data && TagsField(data) is string field && data[field] is JsonArray tags && tags.All(tag => tag is JsonValue value && value.TryGetValue(out string? _))
                ? tags.Select(tag => tag!.GetValue<string>()).Where(tag => tag.Trim().Length > 0).ToList()
                : null;

        /// <summary>The name of the object's top-level tags field ("tags", any case: a PowerShell class says Tags).</summary>
        private static string? TagsField(JsonObject data) =>
            data.Select(pair => pair.Key).FirstOrDefault(name => string.Equals(name, "tags", StringComparison.OrdinalIgnoreCase));

        /// <summary>
        /// A schema turn's answer as it is kept: the checked object's compact JSON, or the answer as it came when it was
        /// cut off or refused (reported as such, not as a mismatch); <c>Mismatch</c> says why an answer does not match.
        /// For live conversations and batch rounds alike.
        /// </summary>
        internal static (string Response, string? Mismatch) TakeAnswer(CaptionSettings settings, Transport.ChatAnswer answer, string response)
        {
            if (settings.Schema is null
                || Conversation.AnswerCheck.Classify(answer.FinishReason) == Conversation.AnswerCheck.Outcome.Truncated
                || (settings.RefusalCheck && Conversation.RefusalCheck.Match(response, settings.RefusalPhrases) is not null))
            {
                return (response, null);
            }

            (JsonObject? data, string? why) = settings.Schema.Check(response);
            return data is not null ? (data.ToJsonString(), null) : (response, why);
        }

        /// <summary>The JSON object in <paramref name="text"/>, or null when it holds none.</summary>
        public static JsonObject? TryParse(string? text)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }

            try
            {
                return JsonNode.Parse(text!, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonObject;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>
        /// A top-level "tags" list of text cleaned by <paramref name="clean"/> (the tag rules: underscores, the drop
        /// list, duplicates), and the caption rendered again from the object by <paramref name="template"/>; a result
        /// without an object is left alone.
        /// </summary>
        public static void Refresh(CaptionResult result, string? template, Func<IEnumerable<string>, IReadOnlyList<string>> clean)
        {
            if (TryParse(result.DataJson) is not JsonObject data)
            {
                return;
            }

            if (TagsField(data) is string field && data[field] is JsonArray tags && tags.All(tag => tag is JsonValue value && value.TryGetValue(out string? _)))
            {
                IReadOnlyList<string> kept = clean(tags.Select(tag => tag!.GetValue<string>()));
                data[field] = new JsonArray(kept.Select(tag => (JsonNode?)JsonValue.Create(tag)).ToArray());
            }

            result.DataJson = data.ToJsonString();
            result.Caption = CaptionTemplate.Render(template, data);
        }
    }
}
