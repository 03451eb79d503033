using System;
using System.Management.Automation;
using VlmCaption.Transport;

namespace VlmCaption.PowerShell
{
    /// <summary>
    /// -Proxy, -ProxyCredential and -ProxyUseDefaultCredentials, spelled as Invoke-RestMethod spells them, laid over
    /// a configuration's proxy keys; each cmdlet that talks to a server declares the three and calls this.
    /// </summary>
    internal static class ProxyParameters
    {
        /// <summary>Lays the parameters typed over the configuration and checks the result, so a bad proxy fails before any request.</summary>
        public static void Apply(PSCmdlet cmdlet, CaptionConfig config, Uri? proxy, PSCredential? credential, SwitchParameter useDefaultCredentials)
        {
            if (proxy is not null)
            {
                config.Proxy = proxy.OriginalString;
            }

            if (credential is not null)
            {
                config.ProxyCredential = credential.GetNetworkCredential();
            }

            if (cmdlet.MyInvocation.BoundParameters.ContainsKey("ProxyUseDefaultCredentials"))
            {
                config.ProxyUseDefaultCredentials = useDefaultCredentials.IsPresent;
            }

            ProxySettings.From(config.Proxy, config.ProxyCredential, config.ProxyUseDefaultCredentials);
        }
    }
}
