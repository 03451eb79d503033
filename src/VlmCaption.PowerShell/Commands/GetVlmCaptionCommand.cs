using System;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Threading;
using VlmCaption.Images;

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
        private readonly Stopwatch clock = new Stopwatch();
        private CaptionBatch? batch;
        private int done;
        private int failed;

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

        /// <summary>The model name.</summary>
        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string Model { get; set; } = "";

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

        /// <summary>Answer limit for every request.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxTokens { get; set; } = 4096;

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

        /// <inheritdoc />
        public void Dispose()
        {
            batch?.Dispose();
            cancellation.Dispose();
        }

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            var settings = new CaptionSettings
            {
                BaseUrl = BaseUrl,
                Model = Model,
                ApiKey = ApiKeyTransformationAttribute.Reveal(ApiKey),
                SystemPrompt = SystemPrompt,
                Prompts = Prompt,
                MaxTokens = MaxTokens,
                Temperature = MyInvocation.BoundParameters.ContainsKey(nameof(Temperature)) ? Temperature : (double?)null,
                MaxRetries = MaxRetries,
                Timeout = TimeSpan.FromSeconds(TimeoutSec),
            };
            CaptionEngine engine;
            try
            {
                engine = new CaptionEngine(settings, new ImagePreparationOptions { MaxImageSize = MaxImageSize });
            }
            catch (ArgumentException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, "InvalidSettings", ErrorCategory.InvalidArgument, null));
                return;
            }

            batch = new CaptionBatch(engine, ThrottleLimit, cancellation.Token);
            clock.Start();
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            bool literal = ParameterSetName == LiteralPathSet;
            foreach (string file in PathResolver.ResolveFiles(this, literal ? LiteralPath : Path, literal))
            {
                while (!batch!.HasSlot)
                {
                    Report(TakeNext());
                }

                WriteVerbose($"Captioning '{file}'.");
                batch.Start(new CaptionJob(file));
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

            WriteProgress(new ProgressRecord(0, "Captioning images", "Done") { RecordType = ProgressRecordType.Completed });
        }

        /// <inheritdoc />
        protected override void StopProcessing() => cancellation.Cancel();

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
                    done++;
                    if (next.Result!.Status == CaptionStatus.Truncated)
                    {
                        WriteWarning($"The caption of '{next.Path}' was cut off by the answer limit ({MaxTokens} tokens). Raise -MaxTokens.");
                    }

                    WriteObject(next.Result);
                    break;
                case CaptionEventKind.Failed:
                    failed++;
                    WriteError(ErrorRecords.From(next.Error!, next.Path));
                    break;
            }

            double minutes = clock.Elapsed.TotalMinutes;
            string rate = minutes > 0 ? $", {(done + failed) / minutes:0.0} images/min" : "";
            WriteProgress(new ProgressRecord(0, "Captioning images", $"{done} captioned, {failed} failed{rate}")
            {
                CurrentOperation = System.IO.Path.GetFileName(next.Path),
            });
        }
    }
}
