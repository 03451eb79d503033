using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security;
using System.Text.RegularExpressions;
using VlmCaption.Hints;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VlmCaption.Config
{
    /// <summary>The keys of caption.yaml that take more than a number, a switch or a text: each checked with its own rules and messages.</summary>
    public sealed partial class CaptionConfigReader
    {
        private IReadOnlyList<string> Prompts()
        {
            YamlNode? node = Value("prompts");
            IReadOnlyList<string>? prompts = StringList("prompts");
            if (prompts is null || prompts.Count == 0)
            {
                string where = node is null ? $"{FileName}: 'prompts' is missing" : $"{Location(node)}: 'prompts' is empty";
                throw new CaptionException("InvalidConfig", CaptionErrorCategory.InvalidData, $"{where}. List at least one prompt; the answer to the last becomes the caption.");
            }

            var sequence = (YamlSequenceNode)node!;
            for (int i = 0; i < prompts.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(prompts[i]))
                {
                    throw Error(sequence.Children[i], $"prompt {i + 1} of 'prompts' is empty.");
                }
            }

            return prompts;
        }

        private IReadOnlyList<RetryRule> RetryRules()
        {
            if (Present("retry_rules") is not YamlNode node)
            {
                return Array.Empty<RetryRule>();
            }

            if (node is not YamlSequenceNode sequence)
            {
                throw Error(node, $"'retry_rules' must be a list of rules, not {Describe(node)}.");
            }

            var rules = new List<RetryRule>();
            foreach (YamlNode item in sequence.Children)
            {
                if (item is not YamlMappingNode rule)
                {
                    throw Error(item, $"each retry rule must have rule_name, phrases and rejection_note, not {Describe(item)}.");
                }

                string Field(string name) => rule.Children.TryGetValue(new YamlScalarNode(name), out YamlNode? value) && value is YamlScalarNode s && !string.IsNullOrWhiteSpace(s.Value)
                    ? s.Value!
                    : throw Error(rule, $"a retry rule needs '{name}' as text.");
                if (!rule.Children.TryGetValue(new YamlScalarNode("phrases"), out YamlNode? phrasesNode) || phrasesNode is not YamlSequenceNode phrases || phrases.Children.Count == 0)
                {
                    throw Error(rule, "a retry rule needs 'phrases', a non-empty list.");
                }

                rules.Add(new RetryRule
                {
                    RuleName = Field("rule_name"),
                    RejectionNote = Field("rejection_note"),
                    Phrases = phrases.Children.Select(p => p is YamlScalarNode s && !string.IsNullOrEmpty(s.Value) ? s.Value! : throw Error(p, "every phrase must be text.")).ToArray(),
                });
            }

            return rules;
        }

        /// <summary>replacements: a list of {pattern, replacement}, each pattern a valid regular expression.</summary>
        private IReadOnlyList<CaptionReplacement> Replacements()
        {
            if (Present("replacements") is not YamlNode node)
            {
                return Array.Empty<CaptionReplacement>();
            }

            if (node is not YamlSequenceNode sequence)
            {
                throw Error(node, $"'replacements' must be a list of {{pattern, replacement}}, not {Describe(node)}.");
            }

            var replacements = new List<CaptionReplacement>();
            foreach (YamlNode item in sequence.Children)
            {
                if (item is not YamlMappingNode rule || !rule.Children.TryGetValue(new YamlScalarNode("pattern"), out YamlNode? pattern) || pattern is not YamlScalarNode patternText || string.IsNullOrEmpty(patternText.Value))
                {
                    throw Error(item, "each replacement needs 'pattern' (a regular expression) and may have 'replacement'.");
                }

                try
                {
                    _ = new Regex(patternText.Value!, RegexOptions.CultureInvariant);
                }
                catch (ArgumentException e)
                {
                    throw Error(patternText, $"'{patternText.Value}' in 'replacements' is not a regular expression: {e.Message}");
                }

                string replacement = rule.Children.TryGetValue(new YamlScalarNode("replacement"), out YamlNode? with) && with is YamlScalarNode withText && !IsNull(withText) ? withText.Value ?? "" : "";
                replacements.Add(new CaptionReplacement { Pattern = patternText.Value!, Replacement = replacement });
            }

            return replacements;
        }

        private string? ShardOf()
        {
            string? text = Text("shard");
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }

            try
            {
                return Output.Shard.Parse(text!).ToString();
            }
            catch (ArgumentException e)
            {
                throw Error(Value("shard")!, $"'shard': {e.Message}");
            }
        }

        private string? Existing()
        {
            string? mode = Text("existing")?.ToLowerInvariant();
            return mode is null || Output.ExistingCaption.Modes.Contains(mode)
                ? mode
                : throw Error(Value("existing")!, $"'existing' must be one of {string.Join(", ", Output.ExistingCaption.Modes)}, not '{mode}'.");
        }

        private string OutputFormat()
        {
            string format = (Text("output_format") ?? "txt").ToLowerInvariant();
            return format == "txt" || format == "jsonl" ? format : throw Error(Value("output_format")!, $"'output_format' must be txt or jsonl, not '{format}'.");
        }

        private string CaptionExtension()
        {
            try
            {
                return Output.CaptionExtension.Normalize(Text("caption_extension") ?? Output.CaptionExtension.Default);
            }
            catch (ArgumentException e)
            {
                throw Error(Value("caption_extension")!, $"'caption_extension': {e.Message}");
            }
        }

        private string? ReasoningEffort()
        {
            string? effort = Text("reasoning_effort");
            return effort is null || ReasoningEfforts.Contains(effort)
                ? effort
                : throw Error(Value("reasoning_effort")!, $"'reasoning_effort' must be one of {string.Join(", ", ReasoningEfforts)}, not '{effort}'.");
        }

        /// <summary>extra_body as plain values: plain scalars typed as YAML reads them, quoted ones as text.</summary>
        /// <summary>json_schema: a .json file beside caption.yaml, or the schema itself as a mapping; checked here, before any request.</summary>
        private string? JsonSchemaOf()
        {
            if (Present("json_schema") is not YamlNode node || (node is YamlScalarNode empty && (IsNull(empty) || (empty.Value ?? "").Length == 0)))
            {
                return null;
            }

            try
            {
                return node switch
                {
                    YamlMappingNode mapping => Structured.CaptionSchema.FromPlain(Plain(mapping)!, "'json_schema'").Text,
                    YamlScalarNode => Structured.CaptionSchema.FromFile(OptionalPath("json_schema")!, "'json_schema'").Text,
                    _ => throw Error(node, $"'json_schema' must name a .json file or be the schema as a mapping, not {Describe(node)}."),
                };
            }
            catch (CaptionException e) when (e.ErrorId == "InvalidJsonSchema")
            {
                throw Error(node, e.Message);
            }
        }

        private System.Collections.IDictionary? ExtraBody()
        {
            if (Present("extra_body") is not YamlNode node)
            {
                return null;
            }

            return node is YamlMappingNode mapping
                ? (System.Collections.IDictionary)Plain(mapping)!
                : throw Error(node, $"'extra_body' must be a mapping of request fields, such as 'chat_template_kwargs: {{enable_thinking: false}}', not {Describe(node)}.");
        }

        private object? Plain(YamlNode node)
        {
            switch (node)
            {
                case YamlMappingNode mapping:
                    var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                    foreach (KeyValuePair<YamlNode, YamlNode> pair in mapping.Children)
                    {
                        map[(pair.Key as YamlScalarNode)?.Value ?? ""] = Plain(pair.Value);
                    }

                    return map;
                case YamlSequenceNode sequence:
                    return sequence.Children.Select(Plain).ToList();
                case YamlScalarNode scalar when scalar.Style != ScalarStyle.Plain:
                    return scalar.Value ?? "";
                case YamlScalarNode scalar when IsNull(scalar):
                    return null;
                case YamlScalarNode scalar:
                    string text = scalar.Value ?? "";
                    if (text == "true" || text == "false")
                    {
                        return text == "true";
                    }

                    if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long whole))
                    {
                        return whole;
                    }

                    return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) ? number : (object)text;
                default:
                    return null;
            }
        }

        /// <summary>proxy: checked here, so a bad one fails before any request, naming the line (never the text: it may hold a password).</summary>
        private string? ProxyOption()
        {
            string? proxy = Text("proxy");
            if (string.IsNullOrWhiteSpace(proxy))
            {
                return null;
            }

            try
            {
                Transport.ProxySettings.From(proxy, null, false);
            }
            catch (CaptionException e)
            {
                throw Error(Value("proxy")!, $"'proxy': {e.Message}");
            }

            return proxy;
        }

        private SecureString? ApiKey(IReadOnlyList<string> environmentNames)
        {
            string? setting = Text("api_key");
            if (string.IsNullOrEmpty(setting))
            {
                return null;
            }

            YamlNode node = Value("api_key")!;
            string key;
            if (environmentNames.Contains(setting!))
            {
                key = environment(setting!) ?? "";
                if (key.Length == 0)
                {
                    throw Error(node, $"'api_key' names the environment variable {setting}, which is not set. Set it, or empty 'api_key' for a local server.");
                }
            }
            else
            {
                key = setting!;
                warnings.Add(EnvironmentName.IsMatch(setting!)
                    ? $"{Location(node)}: 'api_key' looks like an environment variable name but {setting} is not listed in 'api_key_env_vars', so it is sent as a literal key. List it there to read the variable."
                    : $"{Location(node)}: 'api_key' holds a literal key in the file. Prefer an environment variable named in 'api_key_env_vars'.");
            }

            return SecureText.From(key);
        }

        private string? GlobalMetadataFile()
        {
            string? file = OptionalPath("global_metadata_file");
            if (file is null)
            {
                return null;
            }

            // Checked without opening it: a FIFO would block the check, /dev/zero would never end.
            if (Conversation.GlobalMetadata.Problem(file) is string problem)
            {
                throw Error(Value("global_metadata_file")!, $"'global_metadata_file' '{file}' {problem}.");
            }

            try
            {
                using (File.OpenRead(file))
                {
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw Error(Value("global_metadata_file")!, $"'global_metadata_file' '{file}' cannot be read: {e.Message}");
            }

            return file;
        }

        private IReadOnlyList<string> HintSources()
        {
            var sources = new List<string>();
            YamlNode? node = Value("hint_sources");
            IReadOnlyList<string> names = StringList("hint_sources") ?? Array.Empty<string>();
            for (int i = 0; i < names.Count; i++)
            {
                string name = names[i];
                if (BuiltInHints.IsBuiltIn(name))
                {
                    sources.Add(name);
                }
                else if (name.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase))
                {
                    sources.Add(FullPath(name));
                }
                else
                {
                    YamlNode item = ((YamlSequenceNode)node!).Children[i];
                    warnings.Add($"{Location(item)}: unknown hint source '{name}' is skipped. Known: {string.Join(", ", BuiltInHints.Descriptions.Keys)}, or the path of a .ps1 script.");
                }
            }

            return sources;
        }

        /// <summary>The keys a fallback may set: where it is and what it is sent; the images, prompts and output stay the run's.</summary>
        internal static readonly string[] FallbackKeys = { "base_url", "model", "api_key", "max_tokens", "use_max_completion_tokens", "system_prompt", "temperature", "reasoning_effort", "extra_body", "stream", "timeout_sec", "max_retries" };

        /// <summary>
        /// fallback: a mapping of what differs for a second model (its model, and any of <see cref="FallbackKeys"/>),
        /// laid over a copy of the run's configuration; null without one. Read by the same rules as the file's keys.
        /// </summary>
        private CaptionConfig? FallbackOf(CaptionConfig main)
        {
            if (Present("fallback") is not YamlNode node)
            {
                return null;
            }

            if (node is not YamlMappingNode mapping)
            {
                throw Error(node, $"'fallback' must be a mapping of what differs for the second model, such as 'model: gemma-3-12b-it', not {Describe(node)}.");
            }

            if (!mapping.Children.Any(pair => (pair.Key as YamlScalarNode)?.Value is "model" or "base_url"))
            {
                throw Error(node, "'fallback' needs a model or a base_url of its own: the same model again would answer the same.");
            }

            return OverlayOf("'fallback'", mapping, main);
        }

        /// <summary>
        /// The items of a model list that are mappings: each a copy of the run's configuration with that model and
        /// what the mapping changes (any of <see cref="FallbackKeys"/>: its servers, key and request settings).
        /// </summary>
        private CaptionConfig[] ModelConfigsOf(CaptionConfig main) =>
            Value("model") is YamlSequenceNode list
                ? list.Children.OfType<YamlMappingNode>().Select(mapping => OverlayOf("an item of 'model'", mapping, main)).ToArray()
                : Array.Empty<CaptionConfig>();

        /// <summary>A copy of <paramref name="main"/> with what <paramref name="mapping"/> (of <see cref="FallbackKeys"/>) changes, read by the same rules as the file's keys.</summary>
        private CaptionConfig OverlayOf(string what, YamlMappingNode mapping, CaptionConfig main)
        {
            var sub = new CaptionConfigReader(path, environment);
            foreach (KeyValuePair<YamlNode, YamlNode> pair in mapping.Children)
            {
                string key = (pair.Key as YamlScalarNode)?.Value ?? "";
                if (!FallbackKeys.Contains(key))
                {
                    throw Error(pair.Key, $"{what} takes {string.Join(", ", FallbackKeys)}; not '{key}'.");
                }

                sub.entries[key] = (pair.Key, pair.Value);
            }

            CaptionConfig fallback = main.Clone();
            fallback.Fallback = null;
            fallback.Models = Array.Empty<string>();
            fallback.ModelConfigs = Array.Empty<CaptionConfig>();
            fallback.BaseUrl = sub.StringOrList("base_url")?.ToArray() ?? main.BaseUrl;
            fallback.Model = sub.Text("model") is string model && model.Length > 0 ? model : main.Model;
            fallback.ApiKey = sub.Present("api_key") is null ? main.ApiKey : sub.ApiKey(main.ApiKeyEnvVars);
            fallback.SystemPrompt = sub.Text("system_prompt") ?? main.SystemPrompt;
            fallback.ReasoningEffort = sub.ReasoningEffort() ?? main.ReasoningEffort;
            fallback.ExtraBody = sub.ExtraBody() ?? main.ExtraBody;
            sub.Scalars(fallback);
            foreach (string url in fallback.BaseUrl)
            {
                if (Transport.EndpointUrl.Problem(url) is string problem)
                {
                    throw Error(sub.entries["base_url"].Value, $"{what} 'base_url': {problem}");
                }
            }

            warnings.AddRange(sub.warnings);
            return fallback;
        }
    }
}
