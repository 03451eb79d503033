using System.Threading;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>
    /// Checks that an endpoint answers, lists the model, and that the model really sees images, asking with what a
    /// run would send (the same parameters, or -Config); says what to fix.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "VlmEndpoint")]
    [OutputType(typeof(EndpointTestResult))]
    public sealed class TestVlmEndpointCommand : RequestCommandBase
    {
        /// <summary>The number parameters start at caption.yaml's defaults, the catalogue's: what help shows.</summary>
        public TestVlmEndpointCommand()
        {
            ConfigValues.ApplyParameterDefaults(this, "Test-VlmEndpoint");

            // A test asks little of the server: two minutes is plenty, unless told otherwise.
            TimeoutSec = 120;
        }

        /// <summary>The endpoints to test; default caption.yaml's, else $env:VLMCAPTION_BASE_URL, else LM Studio's.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public string[]? BaseUrl { get; set; }

        /// <summary>The model to test; when omitted, caption.yaml's, else $env:VLMCAPTION_MODEL, else the only one the server lists.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(ModelNameCompleter))]
        public string? Model { get; set; }

        /// <summary>A caption.yaml path or object whose endpoint, model, key, answer limit, system prompt, temperature, reasoning and extra body are tested; parameters win over it.</summary>
        [Parameter]
        [ConfigTransformation]
        public CaptionConfig? Config { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            CaptionConfig config;
            ProxySettings? proxy;
            try
            {
                config = ConfigOverlay.Apply(this, Config is null ? SessionDefaults.NewConfig() : ConfigTransformationAttribute.WriteWarnings(this, Config)!);
                proxy = ConfigSettings.ProxyOf(config);
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, Config ?? (object?)Proxy ?? "proxy"));
                return;
            }

            // What a run would send, with a test's own timeout.
            CaptionSettings settings = ConfigSettings.ToSettings(config, new PreflightResult { Model = config.Model }, keepHistory: false) with { Timeout = TimeSpan.FromSeconds(TimeoutSec) };
            foreach (string url in config.BaseUrl)
            {
                WriteVerbose($"Testing {EndpointUrl.Display(url)}.");
                EndpointTestResult result = EndpointProbe.TestAsync(settings with { BaseUrl = url }, Cancellation.Token).GetAwaiter().GetResult();
                if (EndpointUrl.Problem(url) is null)
                {
                    result.Proxy = ProxySettings.Describe(proxy, EndpointUrl.Parse(url));
                }
                foreach (string note in result.Notes)
                {
                    WriteVerbose(note);
                }

                foreach (string problem in result.Diagnosis)
                {
                    WriteVerbose(problem);
                }

                WriteObject(result);
            }
        }

    }
}
