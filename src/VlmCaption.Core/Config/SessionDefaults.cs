using System;

namespace VlmCaption.Config
{
    /// <summary>
    /// Environment variables that stand in for a setting neither a parameter nor caption.yaml names:
    /// parameter, then caption.yaml, then these, then the built-in default.
    /// </summary>
    public static class SessionDefaults
    {
        /// <summary>One endpoint, or several separated by commas or spaces.</summary>
        public const string BaseUrlVariable = "VLMCAPTION_BASE_URL";

        /// <summary>The model name.</summary>
        public const string ModelVariable = "VLMCAPTION_MODEL";

        /// <summary>The API key.</summary>
        public const string ApiKeyVariable = "VLMCAPTION_API_KEY";

        /// <summary>The endpoints VLMCAPTION_BASE_URL names, else the built-in default.</summary>
        public static string[] BaseUrls(Func<string, string?>? environment = null)
        {
            string[] urls = ((environment ?? Environment.GetEnvironmentVariable)(BaseUrlVariable) ?? "")
                .Split(new[] { ',', ' ', ';' }, StringSplitOptions.RemoveEmptyEntries);
            return urls.Length > 0 ? urls : new[] { CaptionSettings.DefaultBaseUrl };
        }

        /// <summary>The model VLMCAPTION_MODEL names, else empty (the only model the server lists).</summary>
        public static string Model(Func<string, string?>? environment = null) =>
            ((environment ?? Environment.GetEnvironmentVariable)(ModelVariable) ?? "").Trim();

        /// <summary>A configuration of defaults alone, for the cmdlets run without -Config.</summary>
        public static CaptionConfig NewConfig() => new CaptionConfig
        {
            BaseUrl = BaseUrls(),
            Model = Model(),
            Prompts = new[] { CaptionSettings.DefaultPrompt },
        };
    }
}
