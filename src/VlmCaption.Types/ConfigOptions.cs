using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace VlmCaption
{
    /// <summary>Every key of caption.yaml, in the order the about topic lists them: the one place an option is described.</summary>
    public static class ConfigOptions
    {
        private const string Get = "Get-VlmCaption";
        private const string Invoke = "Invoke-VlmCaptionRun";
        private const string Test = "Test-VlmEndpoint";
        private const string Save = "Save-VlmCaption";
        private const string Import = "Import-VlmCaption";
        private const string Edit = "Edit-VlmCaption";
        private const string Models = "Get-VlmModel";

        /// <summary>The keys, in order.</summary>
        public static IReadOnlyList<ConfigOption> All { get; } = new[]
        {
            new ConfigOption("base_url", "text or list", "$env:VLMCAPTION_BASE_URL, else http://localhost:1234/v1", "the endpoint, or a list of endpoints serving the same model") { Parameter = "BaseUrl", Commands = new[] { Get, Invoke, Test, Models } },
            new ConfigOption("api_key", "text", "''", "empty: no key; a name listed in api_key_env_vars: read from that variable; else the key itself") { Parameter = "ApiKey", Commands = new[] { Get, Invoke, Test, Models } },
            new ConfigOption("api_key_env_vars", "list", "[]", "variable names api_key may name"),
            new ConfigOption("proxy", "text", "''", "a proxy for every request (http://proxy.example:3128); empty: HTTPS_PROXY, HTTP_PROXY and NO_PROXY from the environment") { Parameter = "Proxy", Commands = new[] { Get, Invoke, Test, Models } },
            Boolean("proxy_use_default_credentials", false, "authenticate to the proxy as the current user", "ProxyUseDefaultCredentials", Get, Invoke, Test, Models),
            new ConfigOption("model", "text or list", "$env:VLMCAPTION_MODEL, else ''", "the model name; empty: the only one the server lists. A list of models compares them: each image is captioned by each, and each model's captions go to a file of their own (photo.<model>.txt) or jsonl lines naming it; an item may be a mapping for a model on servers of its own ({model: x, base_url: ..., api_key: ...}, the keys fallback takes)") { Parameter = "Model", Commands = new[] { Get, Invoke, Test } },
            Integer("max_tokens", 4096, 1, int.MaxValue, "the answer limit, sent with every request", "MaxTokens", Get, Invoke, Test),
            Boolean("use_max_completion_tokens", false, "send max_completion_tokens instead of max_tokens", "UseMaxCompletionTokens", Get, Invoke, Test),
            Integer("concurrent_batch_size", 1, 1, 256, "images in flight on each endpoint", "ThrottleLimit", Get, Invoke),
            new ConfigOption("system_prompt", "text", "''", "the system message") { Default = "", Parameter = "SystemPrompt", Commands = new[] { Get, Invoke, Test } },
            new ConfigOption("global_metadata_file", "path", "''", "a text file placed before the system prompt (read as UTF-8)") { Parameter = "GlobalMetadataPath", Commands = new[] { Get } },
            new ConfigOption("prompts", "list", "(required)", "the chain of prompts; the last answer is the caption") { Parameter = "Prompt", Commands = new[] { Get } },
            Negated("NoRefusalCheck", Boolean("refusal_check", true, "a final answer that opens as a refusal (\"I'm sorry, I can't help with that\", in several languages) is marked Refused, never saved, and asked again by the next run; false takes every answer (-NoRefusalCheck)")),
            new ConfigOption("refusal_phrases", "list", "[]", "openings taken for a refusal besides the built-in ones") { Parameter = "RefusalPhrase", Commands = new[] { Get, Invoke } },
            new ConfigOption("retry_rules", "list", "[]", "rules of rule_name, phrases and rejection_note"),
            new ConfigOption("hint_sources", "list", "[]", "full_path, json, metadata, exif, existing_caption, or paths of .ps1 hint scripts") { Parameter = "HintSource", Commands = new[] { Get } },
            new ConfigOption("base_directory", "path", ".", "the folder of images (and the tree output_directory mirrors)") { Parameter = "BaseDirectory", Commands = new[] { Invoke, Get, Save, Import } },
            Boolean("recursive", false, "walk subfolders (linked folders are never entered)", "Recurse", Invoke, Get, Import),
            Boolean("skip_if_caption_exists", false, "skip captioned images", "SkipExisting", Get),
            Boolean("skip_if_txt_exists", false, "the original tool's name for skip_if_caption_exists, read when that is absent"),
            new ConfigOption("existing", "choice", "(skip_if_caption_exists)", "skip, overwrite, append or prepend: what becomes of an existing caption; append and prepend keep it and put the new one on a line of its own after or before it") { Choices = new[] { "skip", "overwrite", "append", "prepend" }, Parameter = "Existing", Commands = new[] { Invoke, Save } },
            new ConfigOption("output_format", "choice", "txt", "txt: a caption file beside each image; jsonl: a line {text, model, prompt} appended to <name>.jsonl") { Default = "txt", Choices = new[] { "txt", "jsonl" }, Parameter = "Format", Commands = new[] { Import } },
            new ConfigOption("caption_extension", "text", ".txt", "the caption file's extension (\"txt\" works too); image extensions and .json are refused") { Parameter = "Extension", Commands = new[] { Get, Save, Import } },
            Boolean("keep_line_breaks", false, "false: a caption file holds one caption a line, line breaks in an answer become spaces (every trainer reads it as meant); true: an image's one caption keeps the model's line breaks", "KeepLineBreaks", Invoke, Save),
            new ConfigOption("output_directory", "path", "''", "a folder that takes the captions, mirroring the folders under base_directory (read-only image shares); skip, resume and claims look there; empty: beside the images") { Parameter = "Destination", Commands = new[] { Invoke, Get, Save, Import } },
            new ConfigOption("shard", "text", "''", "\"i/n\": this run takes part i (1 to n) of the images, by a hash of each path below base_directory, for n machines on one dataset") { Parameter = "Shard", Commands = new[] { Invoke } },
            Boolean("batch", false, "caption in rounds through the endpoint's Batch API (/v1/files, /v1/batches) instead of live requests; resumable at any point", "Batch", Invoke),
            new ConfigOption("batch_files", "path", "''", "a folder for each round's request files and their outputs (vLLM run-batch, an upload by hand); the run stops until the outputs are there; model must be set") { Parameter = "BatchFiles", Commands = new[] { Invoke } },
            Integer("batch_max_requests", 50_000, 1, 50_000, "the most requests in one request file; a round is split past it"),
            Integer("batch_max_bytes", 200_000_000, 1000, 1L << 40, "the most bytes in one request file; a round is split past it"),
            Number("batch_poll_sec", 5, 0.05m, 3600, "the first wait between status checks of a batch; each wait is half as long again, up to a minute"),
            Integer("captions_per_image", 1, 1, 100, "independent conversations per image, written together: a caption per line (kohya's multi-caption files) or a jsonl line each", "Count", Invoke, Get),
            new ConfigOption("prefix", "text", "''", "text put before every caption, such as a trigger word") { Default = "", Parameter = "Prefix", Commands = new[] { Save } },
            new ConfigOption("suffix", "text", "''", "text put after every caption") { Default = "", Parameter = "Suffix", Commands = new[] { Save } },
            new ConfigOption("replacements", "list", "[]", "post-processing: ordered {pattern, replacement} regular-expression replacements") { Parameter = "Replace", Commands = new[] { Edit } },
            new ConfigOption("strip_phrases", "list", "[]", "post-processing: phrases removed, ignoring case") { Parameter = "StripPhrase", Commands = new[] { Edit } },
            new ConfigOption("tag_separator", "text", "''", "post-processing of tag lists: the separator they are split at, tags trimmed and duplicates removed") { Parameter = "TagSeparator", Commands = new[] { Edit } },
            Boolean("tag_underscores", false, "post-processing of tag lists: underscores in tags become spaces", "TagUnderscores", Edit),
            new ConfigOption("drop_tags", "list", "[]", "post-processing of tag lists: tags dropped") { Parameter = "DropTag", Commands = new[] { Edit } },
            Integer("max_words", 0, 0, 100_000, "post-processing: at most this many words, cut at a sentence end where one is near; 0 for no limit", "MaxWords", Edit),
            Boolean("tidy", false, "post-processing: spaces collapsed, spaces before punctuation and doubled punctuation removed", "Tidy", Edit),
            Integer("max_image_size", 1536, 0, 65535, "longest side sent, in pixels; 0 sends files untouched", "MaxImageSize", Get),
            Integer("max_pixels", 100_000_000, 1, long.MaxValue, "images declaring more pixels are refused before decoding", "MaxPixels", Get),
            // 3.75 MB of image is 5 000 000 characters of base64, under Anthropic's 5 MB measured on the base64
            // (anthropics/claude-code#19631), and so under OpenAI's 20 MB and every local server's limit.
            Integer("max_image_bytes", 3_750_000, 10_000, 1L << 30, "the largest encoded image sent; larger ones are encoded again smaller", "MaxImageBytes", Get),
            new ConfigOption("json_schema", "path or mapping", "''", "a JSON schema the caption must match (a .json file, or the schema as a mapping): asked for with response_format json_schema and in the prompt, checked, the object kept beside the image (photo.caption.json, or the jsonl line's data)") { Parameter = "JsonSchema", Commands = new[] { Get, Invoke } },
            new ConfigOption("json_render", "text", "''", "with json_schema, the caption's text made from the object: {field}, {a.b}, lists joined with ', '; empty: the object's compact JSON") { Parameter = "Render", Commands = new[] { Get, Invoke, Edit } },
            new ConfigOption("json_schema_turns", "choice", "last", "with json_schema, the turns that must answer with it: last (the caption's) or all") { Default = "last", Choices = new[] { "last", "all" }, Parameter = "JsonSchemaTurns", Commands = new[] { Get, Invoke } },
            Integer("clip_frames", 8, 1, 64, "frames taken from each video clip (mp4, mov, webm, mkv, avi), spread evenly over it and sent in order as images", "ClipFrames", Get, Invoke),
            Number("clip_every_sec", 0, 0, 3600, "above 0: a frame from the middle of every this many seconds of a clip instead, at most clip_frames (a longer clip gets clip_frames spread evenly)", "ClipEverySec", Get, Invoke),
            new ConfigOption("clip_as", "choice", "frames", "frames: a clip goes as clip_frames images, for every vision server; video: as the clip itself (a video_url part), cut to clip_max_sec and scaled within max_image_size, for servers that read video (vLLM with Qwen2.5-VL or Qwen3-VL)") { Default = "frames", Choices = new[] { "frames", "video" }, Parameter = "ClipAs", Commands = new[] { Get, Invoke } },
            Integer("clip_max_sec", 60, 1, 3600, "with clip_as: video, the most seconds of a clip sent (from its start)", "ClipMaxSec", Get, Invoke),
            new ConfigOption("ffmpeg_path", "path", "''", "the ffmpeg that takes frames out of clips (ffprobe beside it); empty: the first on PATH") { Parameter = "FfmpegPath", Commands = new[] { Get, Invoke } },
            Integer("timeout_sec", 300, 1, 86400, "the longest silence in one request, in seconds (the whole answer with stream: false)", "TimeoutSec", Get, Invoke),
            Integer("max_request_sec", 3600, 1, 604800, "the longest one request may take in all", "MaxRequestSec", Get),
            Negated("NoStream", Boolean("stream", true, "read answers as they are written; false for servers that mishandle streaming (-NoStream)")),
            Integer("max_answer_bytes", 8L * 1024 * 1024, 1024, 1L << 30, "the most answer text read; a longer answer fails with AnswerTooLarge", "MaxAnswerBytes", Get),
            Integer("max_retries", 3, 0, 100, "retries of a failed request", "MaxRetries", Get),
            Integer("max_consecutive_failures", 5, 0, int.MaxValue, "endpoint failures in a row that stop the run; 0 never stops", "MaxConsecutiveFailures", Get),
            new ConfigOption("temperature", "number", "(none)", "the sampling temperature, sent only when set") { Minimum = 0, Maximum = 2, Parameter = "Temperature", Commands = new[] { Get, Invoke, Test } },
            new ConfigOption("reasoning_effort", "choice", "(none)", "none, minimal, low, medium or high, sent as reasoning_effort") { Choices = new[] { "none", "minimal", "low", "medium", "high" }, Parameter = "ReasoningEffort", Commands = new[] { Get, Invoke, Test } },
            new ConfigOption("extra_body", "mapping", "(none)", "a mapping merged into every request body, such as chat_template_kwargs: {enable_thinking: false}") { Parameter = "AdditionalBody", Commands = new[] { Get, Invoke, Test } },
            new ConfigOption("fallback", "mapping", "(none)", "a second model for the images the first refused or failed on, in the same run: its model, and any of base_url, api_key, max_tokens, use_max_completion_tokens, system_prompt, temperature, reasoning_effort, extra_body, stream, timeout_sec, max_retries") { Parameter = "FallbackModel", Commands = new[] { Invoke } },
            new ConfigOption("chat_history_dir", "path", "''", "where the last image's conversation is kept, one file per turn, without image data"),
        };

        /// <summary>The option of a key; throws <see cref="KeyNotFoundException"/> for a key that is not one.</summary>
        public static ConfigOption Find(string key) =>
            All.FirstOrDefault(o => o.Key == key) ?? throw new KeyNotFoundException($"'{key}' is not a caption.yaml key.");

        /// <summary>The about topic's table of keys (markdown), one row per key in catalogue order.</summary>
        public static string MarkdownTable()
        {
            var table = new StringBuilder();
            table.Append("| key | default | allowed | meaning |\n| --- | --- | --- | --- |\n");
            foreach (ConfigOption option in All)
            {
                table.Append("| ").Append(option.Key).Append(" | ").Append(option.ShownDefault).Append(" | ").Append(Allowed(option)).Append(" | ").Append(option.Description).Append(" |\n");
            }

            return table.ToString();
        }

        /// <summary>What a key takes, as the table shows it: a range, the choices, or the kind.</summary>
        private static string Allowed(ConfigOption option)
        {
            if (option.Choices.Count > 0)
            {
                return string.Join(", ", option.Choices);
            }

            if (option.Minimum is decimal min && option.Maximum is decimal max)
            {
                string kind = option.Kind == "number" ? "a number" : "a whole number";
                return max >= int.MaxValue ? $"{kind}, {min} or more" : $"{kind}, {min} to {max}";
            }

            return option.Kind switch
            {
                "boolean" => "true, false",
                "list" => "a list",
                "mapping" => "a mapping",
                "path" => "a path",
                "path or mapping" => "a path, or a mapping",
                "text or list" => "text, or a list",
                _ => "text",
            };
        }

        private static ConfigOption Integer(string key, long value, long minimum, long maximum, string description, string parameter = "", params string[] commands) =>
            new ConfigOption(key, "integer", value.ToString(System.Globalization.CultureInfo.InvariantCulture), description) { Default = value, Minimum = minimum, Maximum = maximum, Parameter = parameter, Commands = commands };

        private static ConfigOption Number(string key, double value, decimal minimum, decimal maximum, string description, string parameter = "", params string[] commands) =>
            new ConfigOption(key, "number", value.ToString(System.Globalization.CultureInfo.InvariantCulture), description) { Default = value, Minimum = minimum, Maximum = maximum, Parameter = parameter, Commands = commands };

        private static ConfigOption Negated(string parameter, ConfigOption option) =>
            new ConfigOption(option.Key, option.Kind, option.ShownDefault, option.Description) { Default = option.Default, NegatedBy = parameter };

        private static ConfigOption Boolean(string key, bool value, string description, string parameter = "", params string[] commands) =>
            new ConfigOption(key, "boolean", value ? "true" : "false", description) { Default = value, Parameter = parameter, Commands = commands };
    }
}
