using VlmCaption.Conversation;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Captions images with a vision-language model behind an OpenAI-compatible chat API.</summary>
    [Cmdlet(VerbsCommon.Get, "VlmCaption", DefaultParameterSetName = ParameterSets.Path)]
    [OutputType(typeof(CaptionResult))]
    public sealed class GetVlmCaptionCommand : CaptionCommandBase
    {
        /// <summary>The number parameters start at caption.yaml's defaults, the catalogue's: what help shows.</summary>
        public GetVlmCaptionCommand() => ConfigValues.ApplyParameterDefaults(this, "Get-VlmCaption");

        private HintSources? hints;
        private CaptionPlacement placement = CaptionPlacement.Beside;
        private CaptionConfig config = null!;
        private string? globalMetadata;
        private bool started;
        private string model = "";
        private PostProcessing? rules;

        /// <summary>Image paths or folders; wildcards allowed. Objects with PSPath (Get-ChildItem's, results) bind to -LiteralPath.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ParameterSets.Path, ValueFromPipeline = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Image paths or folders taken exactly as written.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ParameterSets.LiteralPath, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP", "FullName")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <summary>Within folders, only images whose names match one of these wildcard patterns.</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Include { get; set; }

        /// <summary>Within folders, leaves out images whose names match one of these wildcard patterns.</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Exclude { get; set; }

        /// <summary>The chain of prompts; the answer to the last is the caption.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] Prompt { get; set; } = { CaptionSettings.DefaultPrompt };

        /// <summary>A text file (e.g. a character codex) placed before the system prompt.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? GlobalMetadataPath { get; set; }

        /// <summary>Hint sources whose texts go before the first prompt, in order: built-in names, .ps1 paths or New-VlmHintSource objects.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(HintSourceNameCompleter))]
        [HintSourceTransformation]
        [ValidateNotNullOrEmpty]
        public HintSource[] HintSource { get; set; } = Array.Empty<HintSource>();

        /// <summary>Images failing in a row for reasons not about the image (server down, key refused) before the command stops; 0 never stops.</summary>
        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int MaxConsecutiveFailures { get; set; }

        /// <summary>Retries for connection failures, 408, 429 and 5xx.</summary>
        [Parameter]
        [ValidateRange(0, 100)]
        public int MaxRetries { get; set; }

        /// <summary>The longest one request may take in all, in seconds.</summary>
        [Parameter]
        [ValidateRange(1, 604800)]
        public int MaxRequestSec { get; set; }

        /// <summary>The most answer text read, in bytes; a longer answer fails with AnswerTooLarge.</summary>
        [Parameter]
        [ValidateRange(1024, 1L << 30)]
        public long MaxAnswerBytes { get; set; }

        /// <summary>Longest side sent, in pixels; 0 sends the file untouched.</summary>
        [Parameter]
        [ValidateRange(0, 65535)]
        public int MaxImageSize { get; set; }

        /// <summary>Images whose header declares more pixels are refused before decoding.</summary>
        [Parameter]
        [ValidateRange(1, long.MaxValue)]
        public long MaxPixels { get; set; }

        /// <summary>Largest encoded image sent, in bytes; a larger one is encoded again at lower quality, then smaller.</summary>
        [Parameter]
        [ValidateRange(10_000, 1L << 30)]
        public long MaxImageBytes { get; set; }

        /// <summary>Skip images that already have a non-empty caption file (caption.yaml's skip_if_caption_exists when not given).</summary>
        [Parameter]
        public SwitchParameter SkipExisting { get; set; }

        /// <summary>Extension of the caption file -SkipExisting looks for; "txt" and ".txt" both work.</summary>
        [Parameter]
        [CaptionExtensionTransformation]
        public string Extension { get; set; } = Output.CaptionExtension.Default;

        /// <summary>A caption.yaml path or an Import-VlmCaptionConfig object; explicit parameters win over it.</summary>
        [Parameter]
        [ConfigTransformation]
        public CaptionConfig? Config { get; set; }

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            try
            {
                config = Effective(Config is null ? SessionDefaults.NewConfig() : ConfigTransformationAttribute.WriteWarnings(this, Config)!);
                globalMetadata = config.GlobalMetadataFile is null ? null : GlobalMetadata.Read(config.GlobalMetadataFile);
                rules = Config is null && config.JsonSchema is null ? null : new PostProcessing(config);
                placement = CaptionPlacement.For(config);
                hints = new HintSources(this, Bound(nameof(HintSource)) || Config is null ? HintSource : ConfigLoader.HintSourcesOf(this, config), config);
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, config?.Path ?? string.Join(", ", (BaseUrl ?? Array.Empty<string>()).Select(Transport.EndpointUrl.Display))));
            }
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            bool literal = ParameterSetName == ParameterSets.LiteralPath;
            var files = PathResolver.Expand(this, literal ? LiteralPath : Path, literal, Recurse, Include, Exclude).Select(f => f.File).ToList();

            // Given by parameter rather than piped, the whole list is known now, so progress can show percent and an ETA.
            if (!MyInvocation.ExpectingInput)
            {
                Progress.Total = files.Count;
            }

            foreach (string file in files)
            {
                // Folders of images also hold captions and sidecars; piped in, they are passed over quietly.
                if (!ImageExtensions.IsImage(file))
                {
                    string message = $"Skipping '{file}': its extension is not one of an image ({string.Join(" ", ImageExtensions.All)}).";
                    if (MyInvocation.ExpectingInput)
                    {
                        WriteVerbose(message);
                    }
                    else
                    {
                        WriteWarning(message);
                    }

                    continue;
                }

                // jsonl skips by model, so the model must be known before the first check.
                if (config.SkipIfCaptionExists && config.OutputFormat == "jsonl")
                {
                    EnsureStarted();
                }

                IReadOnlyList<string>? models = null;
                try
                {
                    // With several models, only those without a caption of the image are asked.
                    models = config.SkipIfCaptionExists ? ModelCaptions.Missing(config, placement, file, model) : null;
                    if (models is { Count: 0 })
                    {
                        WriteVerbose($"Skipping '{file}': it has a caption{(config.Models.Length > 1 ? " by each model" : "")}.");
                        Progress.Skipped(file);
                        continue;
                    }

                    placement.Mirror(file);
                }
                catch (CaptionException e)
                {
                    // An image outside the mirrored tree has no place in the output folder: it fails alone.
                    WriteError(ErrorRecords.From(e, file));
                    Progress.Failed(file);
                    continue;
                }

                EnsureStarted();
                Enqueue(new CaptionJob(file, hints!.Build(file, file)) { Models = config.Models.Length > 1 ? models : null });
            }
        }

        /// <inheritdoc />
        protected override void EndProcessing() => DrainAll();

        /// <inheritdoc />
        private protected override void OnCompleted(CaptionEvent completed)
        {
            bool truncated = false;
            var results = new List<CaptionResult>(completed.Results.Count);
            foreach (CaptionResult result in completed.Results)
            {
                if (result.Status == CaptionStatus.Refused)
                {
                    WriteWarning(Run.FolderRun.RefusalWarning(completed.Path, result));
                }

                if (result.Status == CaptionStatus.Truncated)
                {
                    truncated = true;
                    WriteWarning($"The caption of '{completed.Path}'{(result.CaptionCount > 1 ? $" ({result.CaptionIndex} of {result.CaptionCount})" : "")} was cut off by the answer limit ({config.MaxTokens} tokens). Raise -MaxTokens.");
                }

                result.Config = Config is null && Destination is null ? null : config;
                if (rules is not null)
                {
                    // The configuration's post-processing, as Invoke-VlmCaptionRun applies it, before Save-VlmCaption adds prefix and suffix.
                    try
                    {
                        rules.ApplyTo(result);
                    }
                    catch (CaptionException e)
                    {
                        WriteError(ErrorRecords.From(e, completed.Path));
                        Progress.Failed(completed.Path);
                        return;
                    }
                }

                results.Add(StructuredData.Attach(result));
            }

            if (truncated)
            {
                Progress.Truncated(completed.Path);
            }
            else if (results.Exists(r => r.Status == CaptionStatus.Refused))
            {
                // The bar counts it with those not captioned; the result still goes out, marked Refused.
                Progress.Failed(completed.Path);
            }
            else
            {
                Progress.Captioned(completed.Path);
            }

            // An image's captions go out together, so Save-VlmCaption can write them as one file.
            foreach (CaptionResult result in results)
            {
                WriteObject(result);
            }
        }

        private bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

        /// <summary>Checks the endpoint and starts the batch before the first image that needs a request, so a run with nothing to do asks the server nothing.</summary>
        private void EnsureStarted()
        {
            if (started)
            {
                return;
            }

            try
            {
                IReadOnlyList<(CaptionConfig Config, Transport.PreflightResult Checked)> checkedModels = PreflightEach(config);
                model = checkedModels[0].Checked.Model;
                StartBatch(config, checkedModels, keepHistory: false, globalMetadata);
                started = true;
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, string.Join(", ", config.BaseUrl.Select(Transport.EndpointUrl.Display))));
            }
            catch (ArgumentException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, "InvalidSettings", ErrorCategory.InvalidArgument, null));
            }
        }

        /// <summary>The configuration with every parameter the user typed laid over it; without -Config, over the defaults.</summary>
        private CaptionConfig Effective(CaptionConfig config)
        {
            CaptionConfig effective = ConfigOverlay.Apply(this, config);
            if (BaseDirectory is null && Config is null)
            {
                effective.BaseDirectory = ConfigLoader.ResolveFile(this, ".");
            }

            return effective;
        }
    }
}
