namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Lists the models an OpenAI-compatible endpoint serves.</summary>
    [Cmdlet(VerbsCommon.Get, "VlmModel")]
    [OutputType(typeof(VlmModel))]
    public sealed class GetVlmModelCommand : EndpointCommandBase
    {
        /// <summary>A model list is quick: 30 seconds, unless -TimeoutSec says otherwise.</summary>
        public GetVlmModelCommand() => TimeoutSec = 30;

        /// <summary>The endpoints to ask; default $env:VLMCAPTION_BASE_URL, else LM Studio's.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true)]
        [ValidateNotNullOrEmpty]
        public string[] BaseUrl { get; set; } = SessionDefaults.BaseUrls();

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
