using System;
using System.Collections.Generic;
using System.Security;

namespace VlmCaption
{
    /// <summary>A caption.yaml as read by Import-VlmCaptionConfig: the original tool's keys plus VlmCaption's own.</summary>
    public sealed class CaptionConfig
    {
        /// <summary>A configuration of the catalogue's defaults (<see cref="ConfigOptions"/>): numbers and switches take theirs from there.</summary>
        public CaptionConfig() => ConfigValues.ApplyDefaults(this);

        /// <summary>The file it was read from, if any.</summary>
        public string? Path { get; set; }

        /// <summary>base_url: one endpoint, or several serving the same model.</summary>
        public string[] BaseUrl { get; set; } = { "http://localhost:1234/v1" };

        /// <summary>api_key, resolved: from the environment variable it names, or the literal key; null for none.</summary>
        public SecureString? ApiKey { get; set; }

        /// <summary>proxy: the proxy every request goes through (http://host:port); null: the environment's.</summary>
        public string? Proxy { get; set; }

        /// <summary>-ProxyCredential: the proxy's user and password (not a caption.yaml key: it would be a password in a file).</summary>
        public System.Net.NetworkCredential? ProxyCredential { get; set; }

        /// <summary>proxy_use_default_credentials: authenticate to the proxy as the current user.</summary>
        public bool ProxyUseDefaultCredentials { get; set; }

        /// <summary>api_key_env_vars: variable names api_key may name.</summary>
        public string[] ApiKeyEnvVars { get; set; } = Array.Empty<string>();

        /// <summary>model; empty means the only one the server lists. With several models, the first.</summary>
        public string Model { get; set; } = "";

        /// <summary>
        /// model given as a list of two or more: each image is captioned by each model (prepared once), and their
        /// captions are kept apart, a caption file (or jsonl lines) per model; empty for one model.
        /// </summary>
        public string[] Models { get; set; } = Array.Empty<string>();

        /// <summary>The items of a model list that were mappings: each model's own servers, key or request settings.</summary>
        public CaptionConfig[] ModelConfigs { get; set; } = Array.Empty<CaptionConfig>();

        /// <summary>
        /// The configuration <paramref name="model"/> is asked with: its mapping's, when the model list gave it one,
        /// else this one with that model.
        /// </summary>
        public CaptionConfig For(string model)
        {
            foreach (CaptionConfig own in ModelConfigs)
            {
                if (string.Equals(own.Model, model, StringComparison.OrdinalIgnoreCase))
                {
                    return own;
                }
            }

            CaptionConfig one = Clone();
            one.Model = model;
            one.Models = Array.Empty<string>();
            one.ModelConfigs = Array.Empty<CaptionConfig>();
            return one;
        }

        /// <summary>The models each image is captioned by: <see cref="Models"/>, or the one <see cref="Model"/>.</summary>
        public IReadOnlyList<string> ModelsToAsk => Models.Length > 1 ? Models : new[] { Model };

        /// <summary>max_tokens, sent with every request.</summary>
        public int MaxTokens { get; set; }

        /// <summary>use_max_completion_tokens: send the limit as max_completion_tokens.</summary>
        public bool UseMaxCompletionTokens { get; set; }

        /// <summary>concurrent_batch_size: images in flight.</summary>
        public int ConcurrentBatchSize { get; set; }

        /// <summary>system_prompt.</summary>
        public string SystemPrompt { get; set; } = "";

        /// <summary>global_metadata_file, as a full path; null for none.</summary>
        public string? GlobalMetadataFile { get; set; }

        /// <summary>prompts: the chain; the last answer is the caption.</summary>
        public string[] Prompts { get; set; } = Array.Empty<string>();

        /// <summary>retry_rules.</summary>
        public RetryRule[] RetryRules { get; set; } = Array.Empty<RetryRule>();

        /// <summary>hint_sources: built-in names or paths of hint scripts (full paths).</summary>
        public string[] HintSources { get; set; } = Array.Empty<string>();

        /// <summary>base_directory, as a full path.</summary>
        public string BaseDirectory { get; set; } = "";

        /// <summary>recursive: walk subfolders.</summary>
        public bool Recursive { get; set; }

        /// <summary>skip_if_caption_exists (or the older skip_if_txt_exists).</summary>
        public bool SkipIfCaptionExists { get; set; }

        /// <summary>
        /// existing: what to do with an image that has a caption: skip, overwrite, append or prepend (the new caption
        /// on a line of its own after or before the old one); null follows skip_if_caption_exists.
        /// </summary>
        public string? Existing { get; set; }

        /// <summary>
        /// output_directory: a folder that takes the captions instead of the image folders, mirroring the folders
        /// under base_directory (for read-only image shares), as a full path; null writes beside the images.
        /// </summary>
        public string? OutputDirectory { get; set; }

        /// <summary>captions_per_image: independent conversations per image, written as that many lines (or jsonl lines, or results).</summary>
        public int CaptionsPerImage { get; set; }

        /// <summary>shard: "i/n", the part (1 to n) of the images under base_directory this run takes; null for all.</summary>
        public string? Shard { get; set; }

        /// <summary>batch: caption through the endpoint's Batch API (/v1/files and /v1/batches) in rounds, instead of live requests.</summary>
        public bool Batch { get; set; }

        /// <summary>batch_files: a folder to write the rounds' request files into and read their outputs from (vLLM run-batch, manual upload), as a full path; null to submit them.</summary>
        public string? BatchFiles { get; set; }

        /// <summary>batch_max_requests: requests in one batch file at most (OpenAI: 50 000).</summary>
        public int BatchMaxRequests { get; set; }

        /// <summary>batch_max_bytes: bytes in one batch file at most (OpenAI: 200 MB).</summary>
        public long BatchMaxBytes { get; set; }

        /// <summary>batch_poll_sec: the first wait between checks of a batch's status; each wait is half as long again, up to a minute.</summary>
        public double BatchPollSec { get; set; }

        /// <summary>output_format: txt or jsonl.</summary>
        public string OutputFormat { get; set; } = "txt";

        /// <summary>caption_extension: of txt captions, with its dot.</summary>
        public string CaptionExtension { get; set; } = ".txt";

        /// <summary>keep_line_breaks: an image's one caption keeps the model's line breaks in its caption file, instead of one caption a line.</summary>
        public bool KeepLineBreaks { get; set; }

        /// <summary>replacements: ordered regular-expression replacements applied to every caption.</summary>
        public CaptionReplacement[] Replacements { get; set; } = Array.Empty<CaptionReplacement>();

        /// <summary>strip_phrases: phrases removed from every caption, ignoring case.</summary>
        public string[] StripPhrases { get; set; } = Array.Empty<string>();

        /// <summary>tidy: collapse spaces, drop spaces before punctuation and doubled punctuation.</summary>
        public bool Tidy { get; set; }

        /// <summary>tag_separator: captions are tag lists split on this (e.g. ", "): trimmed, de-duplicated, rejoined; null for prose.</summary>
        public string? TagSeparator { get; set; }

        /// <summary>tag_underscores: underscores in tags become spaces (with tag_separator).</summary>
        public bool TagUnderscores { get; set; }

        /// <summary>drop_tags: tags left out (with tag_separator), ignoring case.</summary>
        public string[] DropTags { get; set; } = Array.Empty<string>();

        /// <summary>max_words: the most words a caption keeps, cut at a sentence end where one is near; 0 for no limit.</summary>
        public int MaxWords { get; set; }

        /// <summary>prefix: put before every caption (e.g. a trigger word).</summary>
        public string Prefix { get; set; } = "";

        /// <summary>suffix: put after every caption.</summary>
        public string Suffix { get; set; } = "";

        /// <summary>max_image_size: longest side sent; 0 sends files untouched.</summary>
        public int MaxImageSize { get; set; }

        /// <summary>max_pixels: images declaring more are refused before decoding.</summary>
        public long MaxPixels { get; set; }

        /// <summary>max_image_bytes: largest encoded image sent; larger ones are encoded again at lower quality, then smaller.</summary>
        public long MaxImageBytes { get; set; }

        /// <summary>clip_frames: frames taken from each video clip, spread evenly over it.</summary>
        public int ClipFrames { get; set; }

        /// <summary>json_schema: the JSON schema a caption must match, as compact JSON; null for none.</summary>
        public string? JsonSchema { get; set; }

        /// <summary>json_render: the template that makes a structured caption's text; empty: its compact JSON.</summary>
        public string JsonRender { get; set; } = "";

        /// <summary>json_schema_turns: last (the caption's turn answers with the schema) or all.</summary>
        public string JsonSchemaTurns { get; set; } = "last";

        /// <summary>clip_every_sec: above 0, a frame from the middle of every this many seconds, at most clip_frames.</summary>
        public double ClipEverySec { get; set; }

        /// <summary>clip_as: frames (a clip goes as its frames) or video (as the clip itself, for servers that read video).</summary>
        public string ClipAs { get; set; } = "frames";

        /// <summary>clip_max_sec: with clip_as video, the most seconds of a clip sent.</summary>
        public int ClipMaxSec { get; set; }

        /// <summary>ffmpeg_path: the ffmpeg that takes frames out of clips, as a full path; null: the first on PATH.</summary>
        public string? FfmpegPath { get; set; }

        /// <summary>refusal_check: a final answer that opens as a refusal is marked Refused and never saved.</summary>
        public bool RefusalCheck { get; set; }

        /// <summary>refusal_phrases: openings taken for a refusal besides the built-in ones.</summary>
        public string[] RefusalPhrases { get; set; } = Array.Empty<string>();

        /// <summary>stream: read answers as they are written (true, the default); false for servers that mishandle streaming.</summary>
        public bool Stream { get; set; }

        /// <summary>max_request_sec: the longest one request may take in all.</summary>
        public int MaxRequestSec { get; set; }

        /// <summary>max_answer_bytes: the most answer text read; a longer answer fails with AnswerTooLarge.</summary>
        public long MaxAnswerBytes { get; set; }

        /// <summary>timeout_sec: the longest silence allowed in one request (the whole answer without streaming).</summary>
        public int TimeoutSec { get; set; }

        /// <summary>max_retries: retries for connection failures, 408, 429 and 5xx.</summary>
        public int MaxRetries { get; set; }

        /// <summary>max_consecutive_failures: images failing in a row for reasons not about the image before the run stops; 0 never stops.</summary>
        public int MaxConsecutiveFailures { get; set; }

        /// <summary>reasoning_effort: none, minimal, low, medium or high, sent as is; null sends none.</summary>
        public string? ReasoningEffort { get; set; }

        /// <summary>extra_body: fields merged into every request body (nested dictionaries, lists, numbers, text); null for none.</summary>
        public System.Collections.IDictionary? ExtraBody { get; set; }

        /// <summary>temperature; null sends none.</summary>
        public double? Temperature { get; set; }

        /// <summary>chat_history_dir: where the most recent image's conversation is kept, as a full path; null for none.</summary>
        public string? ChatHistoryDir { get; set; }

        /// <summary>
        /// fallback: the configuration of a second model for the images the first refused or failed on, in the same
        /// run (this one's, with what the fallback mapping changes); null for none.
        /// </summary>
        public CaptionConfig? Fallback { get; set; }

        /// <summary>The line of each key in the file, for error messages.</summary>
        public IReadOnlyDictionary<string, int> KeyLines { get; set; } = new Dictionary<string, int>();

        /// <summary>A shallow copy (lists are arrays: PowerShell assigns to them directly), for laying command-line overrides over a configuration without changing it.</summary>
        public CaptionConfig Clone() => (CaptionConfig)MemberwiseClone();

        /// <summary>The file it was read from (empty when made in memory): what a result's Config becomes in a CSV.</summary>
        public override string ToString() => Path ?? "";

        /// <summary>"caption.yaml line N" for a key, or the key alone when it was not in a file.</summary>
        public string Where(string key) =>
            Path is not null && KeyLines.TryGetValue(key, out int line) ? $"'{key}' ({System.IO.Path.GetFileName(Path)} line {line})" : $"'{key}'";
    }
}
