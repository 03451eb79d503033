using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace VlmCaption.Structured
{
    /// <summary>
    /// The JSON schema a structured caption must match: sent with the request the way servers take it
    /// (response_format json_schema), stated in the prompt for servers that ignore that, and checked here with
    /// JsonSchema.Net, so an answer that does not match is never a caption. No $ref is fetched from anywhere.
    /// </summary>
    public sealed class CaptionSchema
    {
        /// <summary>The largest schema taken, in characters: far above any caption's, small enough to send each turn.</summary>
        public const int MaxLength = 256 * 1024;

        private readonly JsonSchema schema;

        private CaptionSchema(string text, JsonSchema schema)
        {
            Text = text;
            this.schema = schema;
        }

        /// <summary>The schema as compact JSON, as it is sent.</summary>
        public string Text { get; }

        /// <summary>
        /// Reads a schema; throws <see cref="CaptionException"/> (InvalidJsonSchema) naming <paramref name="where"/> for
        /// text that is not JSON, not an object, too large, or not a schema JsonSchema.Net reads.
        /// </summary>
        public static CaptionSchema Parse(string json, string where)
        {
            if (json.Length > MaxLength)
            {
                throw Invalid(where, $"it is {json.Length} characters, over the {MaxLength} a schema may have");
            }

            JsonNode? node;
            try
            {
                node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
            }
            catch (JsonException e)
            {
                throw Invalid(where, $"it is not JSON: {e.Message}");
            }

            if (node is not JsonObject)
            {
                throw Invalid(where, "it must be a JSON object (a schema), such as {\"type\": \"object\", \"properties\": {...}}");
            }

            JsonSchema read;
            string compact = node.ToJsonString();
            try
            {
                read = JsonSchema.FromText(compact);
            }
            catch (Exception e) when (e is JsonException || e is ArgumentException || e is InvalidOperationException || e is NotSupportedException)
            {
                throw Invalid(where, $"JsonSchema.Net cannot read it as a schema: {e.Message}");
            }

            try
            {
                // Evaluated once now, so a $ref that names another document fails here, before any request:
                // nothing is fetched from anywhere, so definitions must be in the schema ($defs).
                read.Evaluate(new JsonObject());
            }
            catch (Exception e) when (e is RefResolutionException || e is JsonSchemaException || e is JsonException || e is InvalidOperationException)
            {
                throw Invalid(where, $"{e.Message} (VlmCaption fetches no schema from anywhere: put the definitions it refers to under $defs)");
            }

            return new CaptionSchema(compact, read);
        }

        /// <summary>Reads a schema from a .json file (a regular file, at most <see cref="MaxLength"/> bytes); throws <see cref="CaptionException"/>.</summary>
        public static CaptionSchema FromFile(string path, string where)
        {
            switch (RegularFile.Check(path, MaxLength))
            {
                case RegularFile.Kind.Missing:
                    throw Invalid(where, $"'{path}' does not exist");
                case RegularFile.Kind.TooLarge:
                    throw Invalid(where, $"'{path}' is over the {MaxLength / 1024} KB a schema may have");
                case RegularFile.Kind.Readable:
                    break;
                default:
                    throw Invalid(where, $"'{path}' is empty or not a regular file");
            }

            byte[] bytes = RegularFile.ReadAllBytes(path, MaxLength);
            return Parse(new System.Text.UTF8Encoding(false).GetString(bytes).TrimStart('\uFEFF'), $"{where} ('{path}')");
        }

        /// <summary>The schema of plain data (dictionaries, lists and scalars: a YAML mapping, a hashtable).</summary>
        public static CaptionSchema FromPlain(object plain, string where) => Parse(Transport.ChatRequestWriter.ToJson(plain), where);

        /// <summary>The line added to the prompt of a turn that asks for the schema, for servers that do not constrain their answer.</summary>
        public string Instruction => "Answer with one JSON object only, no other text, matching this JSON schema:\n" + Text;

        /// <summary>
        /// The answer as the object the schema describes, or why it is not one. A JSON object inside a Markdown code
        /// fence (```json … ```) is taken, as many models write one.
        /// </summary>
        public (JsonObject? Data, string? Why) Check(string answer)
        {
            string text = Unfenced(answer);
            JsonNode? node;
            try
            {
                node = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
            }
            catch (JsonException e)
            {
                return (null, $"the answer is not JSON ({e.Message})");
            }

            if (node is not JsonObject data)
            {
                return (null, "the answer is JSON but not an object");
            }

            EvaluationResults results;
            try
            {
                results = schema.Evaluate(data, new EvaluationOptions { OutputFormat = OutputFormat.List });
            }
            catch (Exception e) when (e is RefResolutionException || e is JsonSchemaException || e is InvalidOperationException)
            {
                return (null, $"the schema could not be applied to it ({e.Message})");
            }

            if (results.IsValid)
            {
                return (data, null);
            }

            IEnumerable<string> errors = (results.Details ?? new List<EvaluationResults>())
                .Where(detail => detail.Errors is not null)
                .SelectMany(detail => detail.Errors!.Select(error => $"{(detail.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/")}: {error.Value}"))
                .Distinct()
                .Take(5);
            string why = string.Join("; ", errors);
            return (null, why.Length > 0 ? why : "it does not match the schema");
        }

        private static string Unfenced(string answer)
        {
            string text = answer.Trim();
            if (text.StartsWith("```", StringComparison.Ordinal))
            {
                int firstLine = text.IndexOf('\n');
                int close = text.LastIndexOf("```", StringComparison.Ordinal);
                if (firstLine > 0 && close > firstLine)
                {
                    return text.Substring(firstLine + 1, close - firstLine - 1).Trim();
                }
            }

            return text;
        }

        private static CaptionException Invalid(string where, string why) =>
            new CaptionException("InvalidJsonSchema", CaptionErrorCategory.InvalidArgument, $"The JSON schema of {where} cannot be used: {why}.");
    }
}
