using VlmCaption.Config;
using System;
using System.Management.Automation;
using System.Security;
using VlmCaption.Transport;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Lists the models an OpenAI-compatible endpoint serves.</summary>
    [Cmdlet(VerbsCommon.Get, "VlmModel")]
    [OutputType(typeof(VlmModel))]
    public sealed class GetVlmModelCommand : PSCmdlet, IDisposable
    {
        // Ctrl+C cancels the request in flight instead of waiting out -TimeoutSec.
        private readonly System.Threading.CancellationTokenSource cancellation = new System.Threading.CancellationTokenSource();

        /// <summary>The endpoints to ask; default $env:VLMCAPTION_BASE_URL, else LM Studio's.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public string[] BaseUrl { get; set; } = SessionDefaults.BaseUrls();

        /// <summary>The API key; local servers need none.</summary>
        [Parameter]
        [ApiKeyTransformation]
        public SecureString? ApiKey { get; set; }

        /// <summary>Overrides proxy: the proxy every request goes through (http://proxy.example:3128); without it HTTPS_PROXY, HTTP_PROXY and NO_PROXY apply.</summary>
        [Parameter]
        [ValidateNotNull]
        public Uri? Proxy { get; set; }

        /// <summary>The proxy's user name and password.</summary>
        [Parameter]
        [Credential]
        public PSCredential? ProxyCredential { get; set; }

        /// <summary>Overrides proxy_use_default_credentials: authenticate to the proxy as the current user.</summary>
        [Parameter]
        public SwitchParameter ProxyUseDefaultCredentials { get; set; }

        /// <summary>The longest silence allowed in one request, in seconds (as for every cmdlet); a model list is quick, so 30 by default.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 30;

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string apiKey = ApiKeyTransformationAttribute.Reveal(ApiKey ?? ApiKeyTransformationAttribute.FromEnvironment());
            ProxySettings? proxy;
            try
            {
                var config = SessionDefaults.NewConfig();
                ProxyParameters.Apply(this, config, Proxy, ProxyCredential, ProxyUseDefaultCredentials);
                proxy = ConfigSettings.ProxyOf(config);
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, "proxy"));
                return;
            }

            foreach (string url in BaseUrl)
            {
                try
                {
                    WriteObject(ModelLister.ListAsync(url, apiKey, TimeSpan.FromSeconds(TimeoutSec), cancellation.Token, proxy).GetAwaiter().GetResult(), enumerateCollection: true);
                }
                catch (CaptionException e)
                {
                    WriteError(ErrorRecords.From(e, EndpointUrl.Display(url)));
                }
            }
        }

        /// <inheritdoc />
        protected override void StopProcessing() => cancellation.Cancel();

        /// <inheritdoc />
        public void Dispose() => cancellation.Dispose();
    }
}
