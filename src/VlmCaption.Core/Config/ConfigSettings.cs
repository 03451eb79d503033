using System;
using System.Net;
using VlmCaption.Images;

namespace VlmCaption.Config
{
    /// <summary>Turns a <see cref="CaptionConfig"/> into what the engine takes.</summary>
    public static class ConfigSettings
    {
        /// <summary>Engine settings for one endpoint of the configuration.</summary>
        public static CaptionSettings ToSettings(CaptionConfig config, string baseUrl, string model, bool keepHistory) => new CaptionSettings
        {
            BaseUrl = baseUrl,
            Model = model,
            ApiKey = config.ApiKey is null ? "" : new NetworkCredential(string.Empty, config.ApiKey).Password,
            SystemPrompt = config.SystemPrompt,
            Prompts = config.Prompts,
            RetryRules = config.RetryRules,
            MaxTokens = config.MaxTokens,
            UseMaxCompletionTokens = config.UseMaxCompletionTokens,
            Temperature = config.Temperature,
            Timeout = TimeSpan.FromSeconds(config.TimeoutSec),
            MaxRetries = config.MaxRetries,
            KeepHistory = keepHistory,
        };

        /// <summary>Image preparation of the configuration.</summary>
        public static ImagePreparationOptions ToImageOptions(CaptionConfig config) =>
            new ImagePreparationOptions { MaxImageSize = config.MaxImageSize, MaxPixels = config.MaxPixels };
    }
}
