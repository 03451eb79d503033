using System.Threading;

namespace VlmCaption.PowerShell
{
    /// <summary>
    /// What every cmdlet that talks to a server shares: Ctrl+C cancels the request in flight (one cancellation,
    /// stopped by StopProcessing), and -Proxy, -ProxyCredential and -ProxyUseDefaultCredentials, spelled as
    /// Invoke-RestMethod spells them, declared once here and laid over caption.yaml by <see cref="ConfigOverlay"/>.
    /// </summary>
    public abstract class EndpointCommandBase : PSCmdlet, IDisposable
    {
        /// <summary>Cancelled by StopProcessing (Ctrl+C).</summary>
        private protected CancellationTokenSource Cancellation { get; } = new CancellationTokenSource();

        /// <summary>
        /// Overrides timeout_sec where a run reads it: the longest silence allowed in one request, in seconds (the
        /// whole answer without streaming). Test-VlmEndpoint and Get-VlmModel, which read no caption.yaml key for
        /// it, wait 120 and 30 seconds unless told.
        /// </summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; }

        /// <summary>Overrides api_key: a SecureString (from Get-Secret) or text; local servers need none. Without one, $env:VLMCAPTION_API_KEY.</summary>
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

        /// <inheritdoc />
        protected override void StopProcessing() => Cancellation.Cancel();

        /// <inheritdoc />
        public void Dispose()
        {
            Dispose(true);
            GC.SuppressFinalize(this);
        }

        /// <summary>Lets go of what the cmdlet holds.</summary>
        protected virtual void Dispose(bool disposing)
        {
            if (disposing)
            {
                Cancellation.Dispose();
            }
        }
    }
}
