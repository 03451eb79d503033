using System.Reflection;
using System.Text.Json;
using VlmCaption.Structured;

namespace VlmCaption.PowerShell
{
    /// <summary>
    /// Structured captions on the PowerShell side: the object as a PSCustomObject (what ConvertFrom-Json makes, so
    /// Where-Object { $_.Data.people -gt 1 } works), and back to JSON when it was edited; and -JsonSchema's forms.
    /// </summary>
    internal static class StructuredData
    {
        /// <summary>Gives a result with a structured caption its Data object, once.</summary>
        public static CaptionResult Attach(CaptionResult result)
        {
            if (result.DataJson is string json && result.Data is null)
            {
                using JsonDocument document = JsonDocument.Parse(json);
                result.Data = ToObject(document.RootElement);
            }

            return result;
        }

        /// <summary>The object of a record as JSON: an edited Data (a PSCustomObject or a hashtable) wins over DataJson.</summary>
        public static string? Json(object? data, string? dataJson)
        {
            object? value = data is PSObject wrapped ? (wrapped.BaseObject is PSCustomObject ? wrapped : wrapped.BaseObject) : data;
            return value switch
            {
                null => string.IsNullOrEmpty(dataJson) ? null : dataJson,
                string text when text.TrimStart().StartsWith("{", StringComparison.Ordinal) => text,
                string _ => string.IsNullOrEmpty(dataJson) ? null : dataJson,
                _ => StructuredCaption.Json(PlainData.Of(value)),
            };
        }

        /// <summary>
        /// The JSON schema -JsonSchema names: a .json file (a path or a FileInfo), JSON text, a hashtable, a
        /// PSCustomObject, or a class ([MyCaption]) whose public properties become the schema's, all required.
        /// </summary>
        public static string SchemaText(PSCmdlet cmdlet, object value)
        {
            value = value is PSObject { BaseObject: not PSCustomObject } wrapped ? wrapped.BaseObject : value;
            CaptionSchema schema = value switch
            {
                Type type => CaptionSchema.FromPlain(SchemaOf(type, 0), $"-JsonSchema ([{type.Name}])"),
                IDictionary map => CaptionSchema.FromPlain(PlainData.Of(map)!, "-JsonSchema"),
                PSObject custom => CaptionSchema.FromPlain(PlainData.Of(custom)!, "-JsonSchema"),
                FileInfo file => CaptionSchema.FromFile(file.FullName, "-JsonSchema"),
                string text when text.TrimStart().StartsWith("{", StringComparison.Ordinal) => CaptionSchema.Parse(text, "-JsonSchema"),
                string path => CaptionSchema.FromFile(ConfigLoader.ResolveFile(cmdlet, path), "-JsonSchema"),
                _ => throw new CaptionException("InvalidJsonSchema", CaptionErrorCategory.InvalidArgument, $"-JsonSchema takes a .json file, JSON text, a hashtable or a class ([MyCaption]), not a {value.GetType().Name}."),
            };
            return schema.Text;
        }

        /// <summary>A class's schema: its public, not hidden, properties, each required, nothing else allowed.</summary>
        private static Dictionary<string, object?> SchemaOf(Type type, int depth)
        {
            if (depth > 8)
            {
                throw new CaptionException("InvalidJsonSchema", CaptionErrorCategory.InvalidArgument, $"-JsonSchema ([{type.Name}]) nests classes more than 8 deep.");
            }

            var properties = new Dictionary<string, object?>();
            foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.GetCustomAttribute<HiddenAttribute>() is null && property.GetIndexParameters().Length == 0)
                {
                    properties[property.Name] = SchemaOfValue(property.PropertyType, depth);
                }
            }

            if (properties.Count == 0)
            {
                throw new CaptionException("InvalidJsonSchema", CaptionErrorCategory.InvalidArgument, $"-JsonSchema ([{type.Name}]) has no public property to make a schema of.");
            }

            return new Dictionary<string, object?>
            {
                ["type"] = "object",
                ["properties"] = properties,
                ["required"] = properties.Keys.ToList<object?>(),
                ["additionalProperties"] = false,
            };
        }

        private static Dictionary<string, object?> SchemaOfValue(Type type, int depth)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (type == typeof(string) || type == typeof(char) || type == typeof(Guid) || type == typeof(DateTime))
            {
                return new Dictionary<string, object?> { ["type"] = "string" };
            }

            if (type == typeof(bool) || type == typeof(SwitchParameter))
            {
                return new Dictionary<string, object?> { ["type"] = "boolean" };
            }

            if (type.IsEnum)
            {
                return new Dictionary<string, object?> { ["type"] = "string", ["enum"] = Enum.GetNames(type).ToList<object?>() };
            }

            if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte) || type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort) || type == typeof(sbyte))
            {
                return new Dictionary<string, object?> { ["type"] = "integer" };
            }

            if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
            {
                return new Dictionary<string, object?> { ["type"] = "number" };
            }

            Type? item = type.IsArray ? type.GetElementType() : type.GetInterfaces().Concat(new[] { type }).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
            if (item is not null)
            {
                return new Dictionary<string, object?> { ["type"] = "array", ["items"] = SchemaOfValue(item, depth + 1) };
            }

            if (type == typeof(object) || typeof(IDictionary).IsAssignableFrom(type) || type == typeof(PSObject))
            {
                return new Dictionary<string, object?> { ["type"] = "object" };
            }

            return SchemaOf(type, depth + 1);
        }

        private static object? ToObject(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    var item = new PSObject();
                    foreach (JsonProperty property in element.EnumerateObject())
                    {
                        item.Properties.Add(new PSNoteProperty(property.Name, ToObject(property.Value)));
                    }

                    return item;
                case JsonValueKind.Array:
                    return element.EnumerateArray().Select(ToObject).ToArray();
                case JsonValueKind.String:
                    return element.GetString();
                case JsonValueKind.Number:
                    return element.TryGetInt64(out long whole) ? whole : element.GetDouble();
                case JsonValueKind.True:
                    return true;
                case JsonValueKind.False:
                    return false;
                default:
                    return null;
            }
        }
    }
}
