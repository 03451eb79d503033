using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;

namespace VlmCaption.Config
{
    /// <summary>Turns a <see cref="CaptionConfig"/> into what the engine takes.</summary>
    public static class ConfigSettings
    {
        /// <summary>The configuration's proxy; null when it names none (the environment's applies).</summary>
        public static Transport.ProxySettings? ProxyOf(CaptionConfig config) =>
            Transport.ProxySettings.From(config.Proxy, config.ProxyCredential, config.ProxyUseDefaultCredentials);

        /// <summary>Engine settings of the configuration, with the model chosen by the preflight.</summary>
        public static CaptionSettings ToSettings(CaptionConfig config, Transport.PreflightResult model, bool keepHistory) => new CaptionSettings
        {
            BaseUrls = config.BaseUrl.Where(url => !model.Unreachable.Contains(url)).ToArray(),
            Proxy = ProxyOf(config),
            Model = model.Model,
            ModelByEndpoint = model.ModelByEndpoint,
            ModelListedByEndpoint = model.ModelListedByEndpoint,
            ClosesAfterStream = model.ClosesAfterStream,
            ApiKey = config.ApiKey is null ? "" : new NetworkCredential(string.Empty, config.ApiKey).Password,
            SystemPrompt = config.SystemPrompt,
            Prompts = config.Prompts,
            RetryRules = config.RetryRules,
            MaxTokens = config.MaxTokens,
            UseMaxCompletionTokens = config.UseMaxCompletionTokens,
            Temperature = config.Temperature,
            ReasoningEffort = config.ReasoningEffort,
            ExtraBody = PlainBody(config.ExtraBody),
            Timeout = TimeSpan.FromSeconds(config.TimeoutSec),
            MaxRequestTime = TimeSpan.FromSeconds(config.MaxRequestSec),
            Stream = config.Stream,
            MaxAnswerBytes = config.MaxAnswerBytes,
            MaxRetries = config.MaxRetries,
            KeepHistory = keepHistory,
            CaptionsPerImage = config.CaptionsPerImage,
            RefusalCheck = config.RefusalCheck,
            RefusalPhrases = config.RefusalPhrases,
            Schema = config.JsonSchema is string schema ? Structured.CaptionSchema.Parse(schema, config.Where("json_schema")) : null,
            SchemaEveryTurn = config.JsonSchemaTurns == "all",
            Render = config.JsonRender,
        };

        /// <summary>The extra body with text keys, in its own order.</summary>
        public static IReadOnlyDictionary<string, object?> PlainBody(System.Collections.IDictionary? body)
        {
            var plain = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (body is not null)
            {
                foreach (System.Collections.DictionaryEntry entry in body)
                {
                    plain[entry.Key?.ToString() ?? ""] = entry.Value;
                }
            }

            return plain;
        }

    }
}
