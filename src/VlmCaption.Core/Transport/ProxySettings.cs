using System;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;

namespace VlmCaption.Transport
{
    /// <summary>
    /// A proxy every request goes through (-Proxy, proxy: in caption.yaml), with its credentials. Without one,
    /// .NET's own rules apply: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY from the environment (and the
    /// system's proxy on Windows). Credentials are never part of what is shown.
    /// </summary>
    public sealed class ProxySettings
    {
        private static readonly ConcurrentDictionary<string, HttpClientPipelineTransport> Transports = new ConcurrentDictionary<string, HttpClientPipelineTransport>(StringComparer.Ordinal);

        private ProxySettings(Uri address, NetworkCredential? credential, bool useDefaultCredentials)
        {
            Address = address;
            Credential = credential;
            UseDefaultCredentials = useDefaultCredentials;
        }

        /// <summary>The proxy, without credentials.</summary>
        public Uri Address { get; }

        /// <summary>The credential for the proxy, if any.</summary>
        public NetworkCredential? Credential { get; }

        /// <summary>Authenticate to the proxy as the current user (Windows, Kerberos).</summary>
        public bool UseDefaultCredentials { get; }

        /// <summary>The proxy as messages show it: its address, never its credentials.</summary>
        public string Shown => Address.GetLeftPart(UriPartial.Authority);

        /// <summary>
        /// The proxy an address names (credentials in it, http://user:password@host:port, become its credential
        /// unless one is given); null for an empty address. Throws <see cref="CaptionException"/> (InvalidProxy).
        /// </summary>
        public static ProxySettings? From(string? address, NetworkCredential? credential, bool useDefaultCredentials)
        {
            if (string.IsNullOrWhiteSpace(address))
            {
                return null;
            }

            if (!Uri.TryCreate(address!.Trim(), UriKind.Absolute, out Uri? uri) || (uri.Scheme != "http" && uri.Scheme != "https") || uri.Host.Length == 0)
            {
                // The text itself may hold a password: only its shape is said.
                throw new CaptionException("InvalidProxy", CaptionErrorCategory.InvalidArgument, "The proxy must be an http:// or https:// address with a host, such as http://proxy.example:3128.");
            }

            if (credential is null && uri.UserInfo.Length > 0)
            {
                string[] parts = uri.UserInfo.Split(new[] { ':' }, 2);
                credential = new NetworkCredential(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "");
            }

            return new ProxySettings(new Uri(uri.GetLeftPart(UriPartial.Authority)), credential, useDefaultCredentials);
        }

        /// <summary>What a run or a test goes through, for messages: this proxy, or what the environment names.</summary>
        public static string Describe(ProxySettings? proxy, Uri target)
        {
            if (proxy is not null)
            {
                return proxy.Shown;
            }

            // HttpClient.DefaultProxy (.NET Core 3.0 and later) reads the environment; Windows PowerShell has the system's.
            if (typeof(HttpClient).GetProperty("DefaultProxy")?.GetValue(null) is not IWebProxy system)
            {
                return "the system's, if any";
            }

            Uri? used = system.IsBypassed(target) ? null : system.GetProxy(target);
            return used is null || used == target ? "none" : $"{used.GetLeftPart(UriPartial.Authority)} (from the environment)";
        }

        /// <summary>The SDK transport that goes through this proxy: one per proxy and credential, so connections are pooled.</summary>
        internal PipelineTransport Transport()
        {
            string key = $"{Address}|{Credential?.UserName}|{Credential?.Password?.GetHashCode()}|{UseDefaultCredentials}";
            return Transports.GetOrAdd(key, _ =>
            {
                var proxy = new WebProxy(Address) { UseDefaultCredentials = UseDefaultCredentials };
                if (Credential is not null)
                {
                    proxy.Credentials = Credential;
                }

                // No redirects followed, as the SDK's own transport: a redirect of a POST is not the answer.
                var handler = new HttpClientHandler { Proxy = proxy, UseProxy = true, AllowAutoRedirect = false };
                return new HttpClientPipelineTransport(new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan });
            });
        }
    }
}
