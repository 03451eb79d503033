using System;
using System.Net;
using VlmCaption.Images;

namespace VlmCaption.Config
{
    /// <summary>Turns a <see cref="CaptionConfig"/> into what the engine takes.</summary>
    public static class ConfigSettings
    {
        /// <summary>Engine settings of the configuration, with the model chosen by the preflight.</summary>
        public static CaptionSettings ToSettings(CaptionConfig config, string model, bool keepHistory) => new CaptionSettings
        {
            BaseUrls = config.BaseUrl,
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
