using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VlmCaption.Config
{
    /// <summary>
    /// Reads caption.yaml with the original tool's meaning for every key. Errors name the key, the line and the
    /// column; unknown keys are warnings. Relative paths resolve against the file's folder. Text is literal:
    /// no ${...} interpolation. This file reads the document, the numbers and switches (from the catalogue) and
    /// plain values; CaptionConfigReader.Keys.cs the keys that take more than that (prompts, rules, api_key, ...).
    /// </summary>
    public sealed partial class CaptionConfigReader
    {
        /// <summary>The values reasoning_effort takes (OpenAI's, which vLLM, Gemini and OpenRouter read too).</summary>
        internal static readonly string[] ReasoningEfforts = { "none", "minimal", "low", "medium", "high" };

        private static readonly Regex EnvironmentName = new Regex("^[A-Z][A-Z0-9_]*$", RegexOptions.CultureInvariant);

        private readonly string path;
        private readonly string folder;
        private readonly Func<string, string?> environment;
        private readonly List<string> warnings = new List<string>();
        private readonly Dictionary<string, (YamlNode Key, YamlNode Value)> entries = new Dictionary<string, (YamlNode, YamlNode)>(StringComparer.Ordinal);

        private CaptionConfigReader(string path, Func<string, string?> environment)
        {
            this.path = path;
            folder = System.IO.Path.GetDirectoryName(path) ?? ".";
            this.environment = environment;
        }

        /// <summary>Reads the file at an absolute <paramref name="path"/>; throws <see cref="CaptionException"/> (InvalidConfig) on the first error.</summary>
        /// <param name="path">The caption.yaml file.</param>
        /// <param name="warnings">Receives the warnings: unknown keys, unknown hint sources, a literal key in the file.</param>
        /// <param name="environment">Reads environment variables; null for the process's own.</param>
        public static CaptionConfig Read(string path, out IReadOnlyList<string> warnings, Func<string, string?>? environment = null)
        {
            var reader = new CaptionConfigReader(path, environment ?? Environment.GetEnvironmentVariable);
            CaptionConfig config = reader.Parse();
            warnings = reader.warnings;
            return config;
        }

        private CaptionConfig Parse()
        {
            YamlMappingNode root = Load();
            foreach (KeyValuePair<YamlNode, YamlNode> pair in root.Children)
            {
                string key = pair.Key is YamlScalarNode scalar ? scalar.Value ?? "" : "";
                if (entries.ContainsKey(key))
                {
                    throw Error(pair.Key, $"'{key}' appears twice; keep one.");
                }

                entries[key] = (pair.Key, pair.Value);
                if (!ConfigKeys.All.Contains(key))
                {
                    string? nearest = ConfigKeys.Nearest(key);
                    warnings.Add($"{Location(pair.Key)}: unknown key '{key}' is ignored.{(nearest is null ? "" : $" Did you mean '{nearest}'?")}");
                }
            }

            var config = new CaptionConfig
            {
                Path = path,
                KeyLines = entries.ToDictionary(e => e.Key, e => (int)e.Value.Key.Start.Line),
                BaseUrl = StringOrList("base_url")?.ToArray() ?? SessionDefaults.BaseUrls(environment),
                ApiKeyEnvVars = StringList("api_key_env_vars")?.ToArray() ?? Array.Empty<string>(),
                Model = ModelNames() is { Count: > 0 } names ? names[0] : SessionDefaults.Model(environment),
                Models = ModelNames() is { Count: > 1 } several ? several.ToArray() : Array.Empty<string>(),
                SystemPrompt = Text("system_prompt") ?? "",
                Prompts = Prompts().ToArray(),
                RetryRules = RetryRules().ToArray(),
                BaseDirectory = FullPath(Text("base_directory") ?? "."),
                Existing = Existing(),
                SkipIfCaptionExists = Existing() is string existing ? existing == "skip" : Boolean("skip_if_caption_exists") ?? Boolean("skip_if_txt_exists") ?? false,
                OutputFormat = OutputFormat(),
                OutputDirectory = OptionalPath("output_directory"),
                Shard = ShardOf(),
                BatchFiles = OptionalPath("batch_files"),
                CaptionExtension = CaptionExtension(),
                Proxy = ProxyOption(),
                Prefix = Text("prefix") ?? "",
                Suffix = Text("suffix") ?? "",
                ChatHistoryDir = OptionalPath("chat_history_dir"),
                FfmpegPath = OptionalPath("ffmpeg_path"),
                ClipAs = Choice("clip_as"),
                JsonSchema = JsonSchemaOf(),
                JsonRender = Text("json_render") ?? "",
                JsonSchemaTurns = Choice("json_schema_turns"),
                Replacements = Replacements().ToArray(),
                StripPhrases = StringList("strip_phrases")?.ToArray() ?? Array.Empty<string>(),
                RefusalPhrases = StringList("refusal_phrases")?.ToArray() ?? Array.Empty<string>(),
                TagSeparator = Value("tag_separator") is YamlScalarNode separator && !IsNull(separator) && (separator.Value ?? "").Length > 0 ? separator.Value : null,
                DropTags = StringList("drop_tags")?.ToArray() ?? Array.Empty<string>(),
                ReasoningEffort = ReasoningEffort(),
                ExtraBody = ExtraBody(),
            };
            Scalars(config);
            config.ApiKey = ApiKey(config.ApiKeyEnvVars);
            config.GlobalMetadataFile = GlobalMetadataFile();
            config.HintSources = HintSources().ToArray();
            config.Fallback = FallbackOf(config);
            config.ModelConfigs = ModelConfigsOf(config);
            foreach (string url in config.BaseUrl)
            {
                if (Transport.EndpointUrl.Problem(url) is string problem)
                {
                    throw entries.ContainsKey("base_url")
                        ? Error(entries["base_url"].Value, $"'base_url': {problem}")
                        : new CaptionException("InvalidConfig", CaptionErrorCategory.InvalidData, $"{FileName} has no 'base_url', and {SessionDefaults.BaseUrlVariable} holds one that is wrong: {problem}");
                }
            }

            return config;
        }

        /// <summary>The largest caption.yaml read.</summary>
        private const long MaxConfigBytes = 1024 * 1024;

        private YamlMappingNode Load()
        {
            string text;
            try
            {
                text = RegularFile.Check(path, MaxConfigBytes) switch
                {
                    RegularFile.Kind.Missing => throw new FileNotFoundException($"Could not find file '{path}'."),
                    RegularFile.Kind.TooLarge => throw new CaptionException("InvalidConfig", CaptionErrorCategory.LimitsExceeded, $"{FileName} is larger than {MaxConfigBytes / 1048576} MiB, far more than a configuration; it was not read."),
                    RegularFile.Kind.EmptyOrSpecial => "",
                    _ => new UTF8Encoding(false).GetString(RegularFile.ReadAllBytes(path, MaxConfigBytes)).TrimStart('\uFEFF'),
                };
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CaptionException("ConfigNotFound", CaptionErrorCategory.ObjectNotFound, $"Cannot read the configuration '{path}': {e.Message} Create one with New-VlmCaptionConfig.", e);
            }

            var stream = new YamlStream();
            try
            {
                YamlLimits.Check(text, FileName);
                stream.Load(new StringReader(text));
            }
            catch (YamlException e)
            {
                string reason = e.InnerException?.Message ?? e.Message;
                long line = e.Start.Line;
                long column = e.Start.Column;

                // YamlDotNet reports a tab where the token before it ended, often a line early: name the tab's own line.
                int tabLine = Array.FindIndex(text.Split('\n'), l => l.TrimStart(' ').StartsWith("\t", StringComparison.Ordinal));
                if (tabLine >= 0)
                {
                    reason = "YAML does not allow tabs for indentation; use spaces.";
                    line = tabLine + 1;
                    column = 1;
                }

                if (reason.IndexOf("Duplicate key", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    reason = reason.TrimEnd('.') + ". Keep one of each key.";
                }

                throw new CaptionException("InvalidConfig", CaptionErrorCategory.InvalidData, $"{FileName} line {line}, column {column}: {reason}", e);
            }

            if (stream.Documents.Count == 0)
            {
                throw new CaptionException("InvalidConfig", CaptionErrorCategory.InvalidData, $"{FileName} is empty. It needs at least 'prompts'; New-VlmCaptionConfig writes a template.");
            }

            if (stream.Documents[0].RootNode is not YamlMappingNode root)
            {
                throw Error(stream.Documents[0].RootNode, "the file must be a mapping of keys to values, such as 'model: qwen2.5-vl'.");
            }

            return root;
        }

        private string FileName => System.IO.Path.GetFileName(path);

        private string Location(YamlNode node) => $"{FileName} line {node.Start.Line}, column {node.Start.Column}";

        private CaptionException Error(YamlNode node, string message) =>
            new CaptionException("InvalidConfig", CaptionErrorCategory.InvalidData, $"{Location(node)}: {message}");

        private YamlNode? Value(string key) => entries.TryGetValue(key, out var entry) ? entry.Value : null;

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode scalar && scalar.Style == ScalarStyle.Plain && (scalar.Value is null || scalar.Value == "" || scalar.Value == "~" || scalar.Value == "null" || scalar.Value == "Null" || scalar.Value == "NULL");

        /// <summary>The key's value node, or null when the key is absent or empty (null, ~).</summary>
        private YamlNode? Present(string key) => Value(key) is YamlNode node && !IsNull(node) ? node : null;

        private string? Text(string key) => Present(key) switch
        {
            null => null,
            YamlScalarNode scalar => scalar.Value ?? "",
            YamlNode node => throw Error(node, $"'{key}' must be text, not a {Kind(node)}."),
        };

        private delegate bool Parser<T>(string? text, out T value);

        /// <summary>A number within [min, max]; the error names the key, the line and what was found.</summary>
        private T? Ranged<T>(string key, T min, T max, string kind, Parser<T> parse)
            where T : struct, IComparable<T>
        {
            if (Present(key) is not YamlNode node)
            {
                return null;
            }

            if (node is YamlScalarNode scalar && parse(scalar.Value, out T value))
            {
                return value.CompareTo(min) >= 0 && value.CompareTo(max) <= 0 ? value : throw Error(node, $"'{key}' must be between {min} and {max}, not {value}.");
            }

            throw Error(node, $"'{key}' must be {kind}, not {Describe(node)}.");
        }

        private long? Integer(string key, long min, long max) =>
            Ranged(key, min, max, "a whole number", (string? text, out long value) => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value));

        /// <summary>
        /// The numbers and switches: every key of the catalogue (ConfigOptions) that is an integer, a number or a
        /// boolean with a property on CaptionConfig, read within its range; absent, the configuration keeps the
        /// catalogue's default. skip_if_caption_exists is read with existing and the original tool's older name.
        /// </summary>
        private void Scalars(CaptionConfig config)
        {
            foreach (ConfigOption option in ConfigValues.OptionsOf(typeof(CaptionConfig)))
            {
                object? value = option.Kind switch
                {
                    "integer" => Integer(option.Key, (long)option.Minimum!.Value, (long)option.Maximum!.Value),
                    "number" => Number(option.Key, (double)option.Minimum!.Value, (double)option.Maximum!.Value),
                    "boolean" when option.Key != "skip_if_caption_exists" => Boolean(option.Key),
                    _ => null,
                };
                if (value is not null)
                {
                    ConfigValues.Set(config, option, value);
                }
            }
        }

        private double? Number(string key, double min, double max) =>
            Ranged(key, min, max, "a number", (string? text, out double value) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value));

        private bool? Boolean(string key)
        {
            if (Present(key) is not YamlNode node)
            {
                return null;
            }

            // YAML 1.1 words, as the original's loader reads them.
            switch ((node as YamlScalarNode)?.Value?.ToLowerInvariant())
            {
                case "true": case "yes": case "on": return true;
                case "false": case "no": case "off": return false;
                default: throw Error(node, $"'{key}' must be true or false, not {Describe(node)}.");
            }
        }

        private IReadOnlyList<string>? StringList(string key)
        {
            if (Present(key) is not YamlNode node)
            {
                return null;
            }

            if (node is not YamlSequenceNode sequence)
            {
                throw Error(node, $"'{key}' must be a list (lines starting with '- '), not {Describe(node)}.");
            }

            return sequence.Children.Select(item => item is YamlScalarNode scalar && !IsNull(item)
                ? scalar.Value ?? ""
                : throw Error(item, $"every item of '{key}' must be text, not {Describe(item)}.")).ToList();
        }

        private IReadOnlyList<string>? StringOrList(string key) =>
            Value(key) is YamlScalarNode ? (Text(key) is string one ? new[] { one } : null) : StringList(key);

        /// <summary>model: one name, or a list of different names to compare; empty or absent: none.</summary>
        private IReadOnlyList<string>? ModelNames()
        {
            // A list's items are names, or mappings naming a model on servers of its own ({model: x, base_url: ...}).
            IReadOnlyList<string>? names = Value("model") is YamlSequenceNode list
                ? list.Children.Select(item => item is YamlMappingNode mapping ? ModelOfMapping(mapping) : item is YamlScalarNode scalar && !IsNull(scalar) ? scalar.Value ?? "" : throw Error(item, $"every item of 'model' must be a name or a mapping with a model, not {Describe(item)}.")).ToList()
                : StringOrList("model");
            if (names is null || (names.Count == 1 && names[0].Length == 0))
            {
                return null;
            }

            try
            {
                ModelList.Check(names, "'model'");
            }
            catch (CaptionException e)
            {
                throw Error(Value("model")!, e.Message);
            }

            return names;
        }

        private string ModelOfMapping(YamlMappingNode mapping) =>
            mapping.Children.FirstOrDefault(pair => (pair.Key as YamlScalarNode)?.Value == "model").Value is YamlScalarNode name && (name.Value ?? "").Length > 0
                ? name.Value!
                : throw Error(mapping, "an item of 'model' that is a mapping needs a model: of its own, such as '{model: gpt-4o-mini, base_url: https://api.openai.com/v1}'.");

        private string FullPath(string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, relative));

        /// <summary>A choice of the catalogue's, in lower case; the default when absent.</summary>
        private string Choice(string key)
        {
            ConfigOption option = ConfigOptions.Find(key);
            string value = (Text(key) ?? (string)option.Default!).ToLowerInvariant();
            return option.Choices.Contains(value) ? value : throw Error(Value(key)!, $"'{key}' must be one of {string.Join(", ", option.Choices)}, not '{value}'.");
        }

        private string? OptionalPath(string key) => Text(key) is string value && value.Length > 0 ? FullPath(value) : null;

        private static string Kind(YamlNode node) => node switch
        {
            YamlSequenceNode _ => "list",
            YamlMappingNode _ => "mapping",
            _ => "value",
        };

        private static string Describe(YamlNode node) => node is YamlScalarNode scalar ? $"'{scalar.Value}'" : "a " + Kind(node);
    }
}
