using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Security;
using System.Threading;
using VlmCaption.Conversation;
using VlmCaption.Hints;
using VlmCaption.Images;
using VlmCaption.Output;
using VlmCaption.Transport;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Captions images with a vision-language model behind an OpenAI-compatible chat API.</summary>
    [Cmdlet(VerbsCommon.Get, "VlmCaption", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(CaptionResult))]
    public sealed class GetVlmCaptionCommand : PSCmdlet, IDisposable
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        private readonly CancellationTokenSource cancellation = new CancellationTokenSource();
        private readonly BuiltInHints hints = new BuiltInHints();
        private CaptionBatch? batch;
        private CaptionProgress? progress;

        /// <summary>Image paths; wildcards allowed.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Image paths taken exactly as written.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP", "FullName")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <summary>The OpenAI-compatible endpoint.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string BaseUrl { get; set; } = CaptionSettings.DefaultBaseUrl;

        /// <summary>The model name; when omitted, the only model the server lists.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Model { get; set; }

        /// <summary>The API key; local servers need none.</summary>
        [Parameter]
        [ApiKeyTransformation]
        public SecureString? ApiKey { get; set; }

        /// <summary>The system message.</summary>
        [Parameter]
        public string SystemPrompt { get; set; } = "";

        /// <summary>The chain of prompts; the answer to the last is the caption.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] Prompt { get; set; } = { CaptionSettings.DefaultPrompt };

        /// <summary>A text file (e.g. a character codex) placed before the system prompt.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? GlobalMetadataPath { get; set; }

        /// <summary>Hint sources whose texts go before the first prompt, in order.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(HintSourceNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] HintSource { get; set; } = Array.Empty<string>();

        /// <summary>Answer limit for every request.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxTokens { get; set; } = 4096;

        /// <summary>Send the limit as max_completion_tokens (OpenAI's reasoning models) instead of max_tokens.</summary>
        [Parameter]
        public SwitchParameter UseMaxCompletionTokens { get; set; }

        /// <summary>Sampling temperature; sent only when given.</summary>
        [Parameter]
        [ValidateRange(0.0, 2.0)]
        public double Temperature { get; set; }

        /// <summary>Images in flight at once.</summary>
        [Parameter]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; } = 1;

        /// <summary>Retries for connection failures, 408, 429 and 5xx.</summary>
        [Parameter]
        [ValidateRange(0, 100)]
        public int MaxRetries { get; set; } = 3;

        /// <summary>Network timeout of one request, in seconds.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 300;

        /// <summary>Longest side sent, in pixels; 0 sends the file untouched.</summary>
        [Parameter]
        [ValidateRange(0, 65535)]
        public int MaxImageSize { get; set; } = 1536;

        /// <summary>Images whose header declares more pixels are refused before decoding.</summary>
        [Parameter]
        [ValidateRange(1, long.MaxValue)]
        public long MaxPixels { get; set; } = 100_000_000;

        /// <summary>Skip images that already have a non-empty caption file.</summary>
        [Parameter]
        public SwitchParameter SkipExisting { get; set; }

        /// <summary>Extension of the caption file -SkipExisting looks for.</summary>
        [Parameter]
        [ValidatePattern(@"^\.[^\\/]+$")]
        public string Extension { get; set; } = ".txt";

        /// <inheritdoc />
        public void Dispose()
        {
            batch?.Dispose();
            cancellation.Dispose();
        }

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            foreach (string name in HintSource)
            {
                if (!BuiltInHints.IsBuiltIn(name))
                {
                    ThrowTerminatingError(new ErrorRecord(
                        new PSArgumentException($"'{name}' is not a hint source. Known: {string.Join(", ", BuiltInHints.Descriptions.Keys)}."),
                        "UnknownHintSource",
                        ErrorCategory.InvalidArgument,
                        name));
                }
            }

            string apiKey = ApiKeyTransformationAttribute.Reveal(ApiKey);
            try
            {
                string? metadata = GlobalMetadataPath is null ? null : GlobalMetadata.Read(ResolveSinglePath(GlobalMetadataPath));
                string model = Model ?? ChooseModel(apiKey);
                var settings = new CaptionSettings
                {
                    BaseUrl = BaseUrl,
                    Model = model,
                    ApiKey = apiKey,
                    SystemPrompt = SystemPrompt,
                    Prompts = Prompt,
                    MaxTokens = MaxTokens,
                    UseMaxCompletionTokens = UseMaxCompletionTokens,
                    Temperature = MyInvocation.BoundParameters.ContainsKey(nameof(Temperature)) ? Temperature : (double?)null,
                    MaxRetries = MaxRetries,
                    Timeout = TimeSpan.FromSeconds(TimeoutSec),
                };
                var engine = new CaptionEngine(settings, new ImagePreparationOptions { MaxImageSize = MaxImageSize, MaxPixels = MaxPixels }, metadata);
                batch = new CaptionBatch(engine, ThrottleLimit, cancellation.Token);
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, BaseUrl));
            }
            catch (ArgumentException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, "InvalidSettings", ErrorCategory.InvalidArgument, null));
            }

            progress = new CaptionProgress(this);
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            bool literal = ParameterSetName == LiteralPathSet;
            var files = new List<string>(PathResolver.ResolveFiles(this, literal ? LiteralPath : Path, literal));

            // Given by parameter rather than piped, the whole list is known now, so progress can show an ETA.
            if (!MyInvocation.ExpectingInput)
            {
                progress!.Total = files.Count;
            }

            foreach (string file in files)
            {
                if (SkipExisting && HasCaption(file))
                {
                    WriteVerbose($"Skipping '{file}': its caption file exists.");
                    progress!.Skipped(file);
                    continue;
                }

                IReadOnlyList<string> texts = BuildHints(file);
                while (!batch!.HasSlot)
                {
                    Report(TakeNext());
                }

                WriteVerbose($"Captioning '{file}'.");
                batch.Start(new CaptionJob(file, texts));
                while (batch.TryTake(out CaptionEvent? next))
                {
                    Report(next!);
                }
            }
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            while (batch!.InFlight > 0)
            {
                Report(TakeNext());
            }

            progress!.Complete();
        }

        /// <inheritdoc />
        protected override void StopProcessing() => cancellation.Cancel();

        private string ChooseModel(string apiKey)
        {
            string model = ModelLister.ChooseAsync(BaseUrl, apiKey, TimeSpan.FromSeconds(Math.Min(TimeoutSec, 30)), cancellation.Token).GetAwaiter().GetResult();
            WriteVerbose($"Using the model '{model}', the only one {BaseUrl} lists.");
            return model;
        }

        private string ResolveSinglePath(string path)
        {
            string resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out ProviderInfo provider, out _);
            if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
            {
                throw new CaptionException("NotFileSystemPath", CaptionErrorCategory.InvalidArgument, $"'{path}' is not a file-system path.");
            }

            return resolved;
        }

        private bool HasCaption(string image)
        {
            var caption = new FileInfo(CaptionFile.PathFor(image, Extension));
            return caption.Exists && caption.Length > 0;
        }

        private IReadOnlyList<string> BuildHints(string file)
        {
            var texts = new List<string>(HintSource.Length);
            foreach (string name in HintSource)
            {
                try
                {
                    if (hints.Build(name, file, file) is string text)
                    {
                        texts.Add(text);
                    }
                }
                catch (CaptionException e)
                {
                    WriteWarning($"Hint source '{name}' failed for '{file}' and was left out: {e.Message}");
                }
            }

            return texts;
        }

        private CaptionEvent TakeNext()
        {
            try
            {
                return batch!.Take();
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
        }

        private void Report(CaptionEvent next)
        {
            switch (next.Kind)
            {
                case CaptionEventKind.Message:
                    WriteVerbose($"{System.IO.Path.GetFileName(next.Path)}: {next.Text}");
                    return;
                case CaptionEventKind.Completed:
                    if (next.Result!.Status == CaptionStatus.Truncated)
                    {
                        WriteWarning($"The caption of '{next.Path}' was cut off by the answer limit ({MaxTokens} tokens). Raise -MaxTokens.");
                    }

                    WriteObject(next.Result);
                    progress!.Captioned(next.Path);
                    break;
                case CaptionEventKind.Failed:
                    WriteError(ErrorRecords.From(next.Error!, next.Path));
                    progress!.Failed(next.Path);
                    break;
            }
        }
    }
}
