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
    public sealed class GetVlmModelCommand : EndpointCommandBase
    {
        /// <summary>The endpoints to ask; default $env:VLMCAPTION_BASE_URL, else LM Studio's.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public string[] BaseUrl { get; set; } = SessionDefaults.BaseUrls();

        /// <summary>The API key; local servers need none.</summary>
        [Parameter]
        [ApiKeyTransformation]
        public SecureString? ApiKey { get; set; }

        /// <summary>The longest silence allowed in one request, in seconds (as for every cmdlet); a model list is quick, so 30 by default.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 30;

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string apiKey;
            ProxySettings? proxy;
            try
            {
                CaptionConfig config = ConfigOverlay.Apply(this, SessionDefaults.NewConfig());
                apiKey = ApiKeyTransformationAttribute.Reveal(config.ApiKey);
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
                    WriteObject(ModelLister.ListAsync(url, apiKey, TimeSpan.FromSeconds(TimeoutSec), Cancellation.Token, proxy).GetAwaiter().GetResult(), enumerateCollection: true);
                }
                catch (CaptionException e)
                {
                    WriteError(ErrorRecords.From(e, EndpointUrl.Display(url)));
                }
            }
        }
    }
}
