using System;
using System.Linq;

namespace VlmCaption.Transport
{
    /// <summary>Checks base URLs before anything is sent, with messages that say what to type.</summary>
    public static class EndpointUrl
    {
        /// <summary>What is wrong with a base URL, or null when it is an absolute http or https URL.</summary>
        public static string? Problem(string url)
        {
            if (url.IndexOf("://", StringComparison.Ordinal) < 0)
            {
                return $"The base URL '{url}' has no http:// or https:// in front. Type it with one, e.g. http://{url.TrimStart('/')} (https:// for a cloud API).";
            }

            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
            {
                return $"The base URL '{url}' is not an http or https URL, such as {CaptionSettings.DefaultBaseUrl}.";
            }

            return null;
        }

        /// <summary>The URL as a <see cref="Uri"/>; throws <see cref="CaptionException"/> (InvalidBaseUrl) with the problem.</summary>
        public static Uri Parse(string url) =>
            Problem(url) is string problem ? throw new CaptionException("InvalidBaseUrl", CaptionErrorCategory.InvalidArgument, problem) : new Uri(url);

        /// <summary>
        /// The URL as messages and results show it: credentials in its user info (user:pass@) and the values of its
        /// query (?key=...) replaced by ***, since some services take a key there.
        /// </summary>
        public static string Display(string url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.UserInfo.Length == 0 && uri.Query.Length == 0))
            {
                return url;
            }

            string query = uri.Query.Length == 0 ? "" : "?" + string.Join("&", uri.Query.TrimStart('?').Split('&').Select(pair => pair.Split('=')[0] + (pair.Contains("=") ? "=***" : "")));
            string user = uri.UserInfo.Length == 0 ? "" : "***@";
            return $"{uri.Scheme}://{user}{uri.Authority}{uri.AbsolutePath}{query}";
        }

        /// <summary>True for LM Studio's default address, where its advice fits.</summary>
        internal static bool IsLmStudioDefault(string url) =>
            Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) && uri.Port == 1234 && (uri.IsLoopback || uri.Host == "localhost");
    }
}
