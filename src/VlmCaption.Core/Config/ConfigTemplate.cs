namespace VlmCaption.Config
{
    /// <summary>The commented caption.yaml that New-VlmCaptionConfig writes: the original tool's defaults and VlmCaption's keys.</summary>
    public static class ConfigTemplate
    {
        /// <summary>The file's text.</summary>
        public const string Text = @"# caption.yaml: settings for Invoke-VlmCaptionRun (VlmCaption). See Get-Help about_VlmCaption.
# The keys of the Python tool vlm-caption keep their meaning; relative paths are relative to this file.
# A key left out takes its default; where this template sets another value, its comment says so and why.

# OpenAI-compatible endpoint. LM Studio: http://localhost:1234/v1, Ollama: http://localhost:11434/v1,
# vLLM: http://localhost:8000/v1, llama.cpp server: http://localhost:8080/v1, OpenAI: https://api.openai.com/v1.
# Several servers of the same model may be listed:
# base_url:
#   - http://gpu1:8000/v1
#   - http://gpu2:8000/v1
base_url: http://localhost:1234/v1

# Empty for local servers. A name listed in api_key_env_vars is read from that environment variable;
# anything else is used as the key itself (better kept out of this file).
# api_key_env_vars: default when absent: none; the usual cloud names here.
api_key: ''
api_key_env_vars:
  - OPENAI_API_KEY
  - ANTHROPIC_API_KEY
  - GEMINI_API_KEY

# A proxy for every request, for a company network: http://proxy.example:3128. Empty: HTTPS_PROXY, HTTP_PROXY
# and NO_PROXY from the environment, as most tools read them. Its password goes in -ProxyCredential, not here;
# proxy_use_default_credentials: true signs in as the current user (Windows).
proxy: ''
proxy_use_default_credentials: false

# The model name the server knows. Empty: the only model the server lists.
model: ''

# Answer limit, sent with every request. Default when absent: 4096; 16384 here, the original tool's
# value, leaves room for models that think before they answer.
max_tokens: 16384
# true sends max_completion_tokens instead of max_tokens (OpenAI's reasoning models need it).
use_max_completion_tokens: false

# Images in flight at once (the turns of one image stay in order).
concurrent_batch_size: 1

# The system message. Default when absent: none; the original tool's here.
system_prompt: >-
  You are to analyze an image and provide information based on what is visible in the image. Do not embellish,
  and avoid language like 'showcases' or 'features,' preferring to focus on factual information. Make sure
  anything that is out of frame is NOT described. If metadata is present it can be trusted to be accurate.
  Never include things that are not present in the image, and do not say things like 'no characters are visible.'

# A text file (e.g. a character codex) placed before the system prompt. Empty: none.
global_metadata_file: ''

# The chain of prompts, one request each; the answer to the last is the caption.
prompts:
  - Describe the image in detail. Physically describe each character.
  - Can you positively identify any characters, objects, or locations based on the codex or metadata? If you can identify characters, give reasons for the positive id.
  - Describe the framing and composition, shot type, shot angle. For this request, think like a photographer or cinematographer.
  - To finalize, summarize the description of the image in four to five sentences, focusing on factual information present in the image. Do not include any markdown, headers, or special formatting. Do not start with 'the image depicts' or similar. Simply exclude such phrases and focus on what IS visible.

# When the caption contains a phrase (ignoring case), one more request is sent with the note,
# [phrases] replaced by the phrases found; its answer is kept only if it is free of them.
# Default when absent: none; the original tool's rule here.
retry_rules:
  - rule_name: conversation_rejections
    phrases:
      - examination of
      - examination process
      - analysis process
      - during careful review
      - output response
      - interaction exchanges
      - conversation dialogue
      - step-by-step manner
      - during analysis
      - factual reporting
      - provided analysis
      - within scope
    rejection_note: 'Please retry your summary and exclude these sorts of words or phrases: [phrases]. Focus on creating the summary as instructed and do not comment on the conversation/analysis process.'

# Per-image hints placed before the first prompt: full_path, json (<name>.json beside the image),
# metadata (metadata.json in the image's folder), exif, or the path of a .ps1 hint script.
# Default when absent: none; full_path here, which costs a line and often helps.
hint_sources:
  - full_path

# Where the images are, and whether to walk subfolders.
base_directory: .
recursive: false

# Skip images that already have a caption (txt: a non-empty caption file; jsonl: a line with this model and prompts).
# Default when absent: false, as in the original tool; true here, so a run that was stopped picks up where it left off.
skip_if_caption_exists: true
# Or say what becomes of an existing caption: existing: skip, overwrite, append or prepend (append and prepend keep
# the old caption and put the new one on a line of its own after or before it). When set, it replaces the key above.

# txt: <name>.txt beside each image. jsonl: a line {text, model, prompt} appended to <name>.jsonl.
output_format: txt
caption_extension: .txt
# A caption file holds one caption a line, so every trainer reads it as meant (sd-scripts keeps only the first
# line; OneTrainer and SimpleTuner take each line as another caption): line breaks in an answer become spaces.
# true keeps an answer's line breaks (the original tool's way), for trainers that read a file whole.
keep_line_breaks: false
# Write the captions into another folder, mirroring the folders under base_directory (for read-only image
# shares); skipping and resuming look there. Empty: beside the images. e.g. output_directory: ./captions
output_directory: ''
# Independent conversations per image, written as one caption per line (kohya's multi-caption files) or one
# jsonl line each. Above 1, leave temperature unset or above 0, or the captions come out the same.
captions_per_image: 1
# Several machines on one dataset: each takes one part of n, e.g. shard: '2/4' on the second of four (parts are
# numbered 1 to n; an image's part comes from its path below base_directory). Empty: every image.
shard: ''
# Whole datasets at half price, or on a GPU box without a live server: caption in rounds through the endpoint's
# Batch API (OpenAI, SGLang, LiteLLM), one round a prompt; a run stopped at any point goes on where it stopped.
batch: false
# Or write each round's request files into a folder and read their outputs back (vLLM's run-batch, an upload by
# hand); the run stops after writing and goes on when run again. Empty: submit them. e.g. batch_files: ./batch
batch_files: ''
# Limits of one request file (OpenAI's), and the first wait between status checks (then half as long again,
# up to a minute).
batch_max_requests: 50000
batch_max_bytes: 200000000
batch_poll_sec: 5
# Put before / after every caption, e.g. a trigger word: prefix: 'ohwx woman, '
prefix: ''
suffix: ''

# Post-processing, applied to every caption after the retry rules and before prefix and suffix, in this order:
# replacements (regular expressions, in order), phrases stripped (ignoring case), tag handling when captions
# are tag lists (split on tag_separator, trimmed, underscores to spaces, drop_tags left out, duplicates
# removed), at most max_words words (cut at a sentence end where one is near; 0: no limit), then tidy.
# replacements:
#   - pattern: '^(The|This) image (shows|depicts) '
#     replacement: ''
replacements: []
strip_phrases: []
tag_separator: ''
tag_underscores: false
drop_tags: []
max_words: 0
tidy: false

# Longest side sent, in pixels (0 sends files untouched), the pixel budget of one image, and the largest
# encoded image sent (3.75 MB fits Anthropic's 5 MB of base64 and every other server; larger images are
# encoded again at lower quality, then smaller).
max_image_size: 1536
max_pixels: 100000000
max_image_bytes: 3750000

# Answers are read as they are written (stream: false for servers that mishandle streaming). timeout_sec is
# the longest silence in one request, max_request_sec the longest one request may take in all, in seconds;
# max_answer_bytes the most answer text read. Retries are for connection failures, 408, 429 and 5xx.
stream: true
timeout_sec: 300
max_request_sec: 3600
max_answer_bytes: 8388608
max_retries: 3
# Stop the run when this many images in a row fail for reasons that are not about the image
# (server down, key refused); 0 never stops.
max_consecutive_failures: 5

# Sampling temperature; leave empty to send none.
temperature:

# reasoning_effort sent with every request (none, minimal, low, medium, high); none turns thinking off on
# OpenAI's reasoning models and Gemini 2.5. Empty sends none.
reasoning_effort:

# Fields merged into every request body, for what a server reads beyond the common ones. Empty sends none
# (Gemini and Mistral refuse fields they do not know). For example, thinking off for Qwen3 on vLLM or llama.cpp:
# extra_body:
#   chat_template_kwargs:
#     enable_thinking: false
extra_body:

# Keep the most recent image's conversation here (messages_1.txt …), image data left out. Empty: off.
chat_history_dir: ''
";
    }
}
