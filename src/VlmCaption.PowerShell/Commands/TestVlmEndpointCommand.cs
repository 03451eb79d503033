using VlmCaption.Config;
using System;
using System.Management.Automation;
using System.Security;
using System.Threading;
using VlmCaption.Transport;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Checks that an endpoint answers, lists the model, and that the model really sees images; says what to fix.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "VlmEndpoint")]
    [OutputType(typeof(EndpointTestResult))]
    public sealed class TestVlmEndpointCommand : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource cancellation = new CancellationTokenSource();

        /// <summary>The endpoints to test; default $env:VLMCAPTION_BASE_URL, else LM Studio's.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public string[] BaseUrl { get; set; } = SessionDefaults.BaseUrls();

        /// <summary>The model to test; when omitted, $env:VLMCAPTION_MODEL, else the only one the server lists.</summary>
        [Parameter]
        [ArgumentCompleter(typeof(ModelNameCompleter))]
        public string Model { get; set; } = SessionDefaults.Model();

        /// <summary>The API key; local servers need none.</summary>
        [Parameter]
        [ApiKeyTransformation]
        public SecureString? ApiKey { get; set; }

        /// <summary>Seconds each request may take.</summary>
        [Parameter]
        [ValidateRange(1, 3600)]
        public int TimeoutSec { get; set; } = 120;

        /// <inheritdoc />
        public void Dispose() => cancellation.Dispose();

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string apiKey = ApiKeyTransformationAttribute.Reveal(ApiKey ?? ApiKeyTransformationAttribute.FromEnvironment());
            foreach (string url in BaseUrl)
            {
                WriteVerbose($"Testing {url}.");
                EndpointTestResult result = EndpointProbe.TestAsync(url, apiKey, Model, TimeSpan.FromSeconds(TimeoutSec), cancellation.Token).GetAwaiter().GetResult();
                foreach (string problem in result.Diagnosis)
                {
                    WriteVerbose(problem);
                }

                WriteObject(result);
            }
        }

        /// <inheritdoc />
        protected override void StopProcessing() => cancellation.Cancel();
    }
}
