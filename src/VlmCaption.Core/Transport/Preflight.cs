using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption.Transport
{
    /// <summary>What the check before the first image found.</summary>
    public sealed class PreflightResult
    {
        /// <summary>The model to report and to key jsonl lines by: the name given, or the only one listed.</summary>
        public string Model { get; set; } = "";

        /// <summary>Per endpoint, the name to send when its list names the model differently.</summary>
        public Dictionary<string, string> ModelByEndpoint { get; } = new Dictionary<string, string>();

        /// <summary>Per endpoint, true when its list named the model, false when no list could be read.</summary>
        public Dictionary<string, bool> ModelListedByEndpoint { get; } = new Dictionary<string, bool>();

        /// <summary>
        /// Endpoints whose list says they are llama.cpp's llama-server (owned_by "llamacpp"), which closes the
        /// connection after every streamed answer though its headers say Keep-Alive: asked for a fresh connection
        /// from the first request, no turn is sent on one it is closing.
        /// </summary>
        public HashSet<string> ClosesAfterStream { get; } = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>Endpoints of several that did not answer at all; the run goes on without them.</summary>
        public List<string> Unreachable { get; } = new List<string>();
    }

    /// <summary>
    /// The check before the first image: every endpoint answers and lists the model. An unreachable server or
    /// an unknown model is then one clear error instead of one per image. A list that cannot be read while chat
    /// may still work (Anthropic refuses a Bearer key on /v1/models only) is a warning, and the first answer decides.
    /// </summary>
    public static class Preflight
    {
        /// <summary>How long a server that answers "Loading model" at /models is waited for.</summary>
        private static readonly TimeSpan LoadingWait = TimeSpan.FromMinutes(10);

        /// <summary>
        /// Checks the endpoints and returns the model to use: <paramref name="model"/> as each endpoint names it, or
        /// the only one listed when it is empty. Lines for the run to hear go to <paramref name="warnings"/>.
        /// </summary>
        /// <remarks>
        /// <paramref name="waiting"/> is told (from any thread) while a server loads its model, so a wait of minutes is
        /// not silent; every request goes through <paramref name="proxy"/> when one is given.
        /// </remarks>
        public static async Task<PreflightResult> CheckAsync(IReadOnlyList<string> baseUrls, string apiKey, string model, TimeSpan timeout, ICollection<string> warnings, Action<string>? waiting, ProxySettings? proxy, CancellationToken cancellationToken)
        {
            var result = new PreflightResult { Model = model };
            foreach (string baseUrl in baseUrls)
            {
                IReadOnlyList<VlmModel>? models;
                try
                {
                    models = await ListOrExplainAsync(baseUrl, apiKey, result.Model, timeout, warnings, waiting, proxy, cancellationToken).ConfigureAwait(false);
                }
                catch (CaptionException e) when (baseUrls.Count > 1 && NotAnswering(e) && result.Unreachable.Count < baseUrls.Count - 1)
                {
                    // One GPU box of several down for the night: the others caption; only when none answers does the run stop.
                    result.Unreachable.Add(baseUrl);
                    warnings.Add($"{e.Message.TrimEnd('.')}. The run goes on without it, with the other {baseUrls.Count - result.Unreachable.Count} of {baseUrls.Count} servers.");
                    continue;
                }

                if (models is null)
                {
                    result.ModelListedByEndpoint[baseUrl] = false;
                    continue;
                }

                if (result.Model.Length == 0)
                {
                    result.Model = models.Count == 1
                        ? models[0].Id
                        : throw new CaptionException("ModelNotSpecified", CaptionErrorCategory.InvalidArgument, $"No model was named and {EndpointUrl.Display(baseUrl)} {ModelMatch.Listing(models)}. Name one with -Model (or 'model' in caption.yaml).");
                }

                (string id, string? note) = ModelMatch.Resolve(models, result.Model, EndpointUrl.Display(baseUrl));
                if (note is not null)
                {
                    warnings.Add(note);
                }

                result.ModelByEndpoint[baseUrl] = id;
                result.ModelListedByEndpoint[baseUrl] = true;
                if (models.Any(ModelMatch.IsLlamaServer))
                {
                    result.ClosesAfterStream.Add(baseUrl);
                }
            }

            return result;
        }

        // A server that is not there, or not working, as opposed to one that answers with a refusal every image would meet.
        private static bool NotAnswering(CaptionException e) =>
            e.Category is CaptionErrorCategory.ConnectionError or CaptionErrorCategory.OperationTimeout || e.StatusCode >= 500;

        /// <summary>The list; null (with a warning) when it cannot be read but chat may work; throws when nothing can.</summary>
        private static async Task<IReadOnlyList<VlmModel>?> ListOrExplainAsync(string baseUrl, string apiKey, string model, TimeSpan timeout, ICollection<string> warnings, Action<string>? waiting, ProxySettings? proxy, CancellationToken cancellationToken)
        {
            DateTime started = DateTime.UtcNow;
            DateTime loadingUntil = started + LoadingWait;
            DateTime nextWord = started;
            while (true)
            {
                try
                {
                    return await ModelLister.ListAsync(baseUrl, apiKey, timeout, cancellationToken, proxy).ConfigureAwait(false);
                }
                catch (CaptionException e) when (e.StatusCode == 503 && DateTime.UtcNow < loadingUntil && e.Message.IndexOf("loading", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    // llama-server answers 503 "Loading model" on every route until the model is in memory.
                    if (DateTime.UtcNow >= nextWord)
                    {
                        waiting?.Invoke(nextWord == started
                            ? $"{EndpointUrl.Display(baseUrl)} is loading its model (HTTP 503 Loading model); waiting for it, up to {LoadingWait.TotalMinutes:0} minutes."
                            : $"{EndpointUrl.Display(baseUrl)} is still loading its model after {(DateTime.UtcNow - started).TotalSeconds:0} s.");
                        nextWord = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                    }

                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                }
                catch (CaptionException e) when (e.StatusCode == 404)
                {
                    // A base URL without /v1 is the usual cause: then every chat request would be a 404 too.
                    if (await MissingV1Async(baseUrl, apiKey, timeout, proxy, cancellationToken).ConfigureAwait(false) is string fixedUrl)
                    {
                        throw new CaptionException("BaseUrlMissingV1", CaptionErrorCategory.InvalidArgument, $"{EndpointUrl.Display(baseUrl)}/models answered HTTP 404 but {EndpointUrl.Display(fixedUrl)}/models lists models: the base URL needs /v1. Use -BaseUrl {EndpointUrl.Display(fixedUrl)} (base_url in caption.yaml).")
                        {
                            StatusCode = 404,
                        };
                    }

                    return Unlisted(e, baseUrl, model, warnings, "If the first image fails with HTTP 404 too, the URL is not the API root (it usually ends in /v1).");
                }
                catch (CaptionException e) when (e.StatusCode is 401 or 403)
                {
                    // Anthropic's /v1/models wants x-api-key and refuses the Bearer key its chat accepts (dnakov/anon-kode#14).
                    return Unlisted(e, baseUrl, model, warnings, "If the first image is refused too, check the API key.");
                }
            }
        }

        private static IReadOnlyList<VlmModel>? Unlisted(CaptionException e, string baseUrl, string model, ICollection<string> warnings, string advice)
        {
            if (model.Length == 0)
            {
                throw new CaptionException("ModelNotSpecified", CaptionErrorCategory.InvalidArgument, $"{e.Message.TrimEnd('.')}, so no model could be chosen. Name the model with -Model (or 'model' in caption.yaml).")
                {
                    StatusCode = e.StatusCode,
                };
            }

            warnings.Add($"The model list of {EndpointUrl.Display(baseUrl)} could not be read (HTTP {e.StatusCode}), so '{model}' is not checked before the first image; its answer decides. {advice}");
            return null;
        }

        /// <summary>The URL with /v1 added when that one lists models and the URL itself does not end in /v1; else null.</summary>
        private static async Task<string?> MissingV1Async(string baseUrl, string apiKey, TimeSpan timeout, ProxySettings? proxy, CancellationToken cancellationToken)
        {
            string trimmed = baseUrl.TrimEnd('/');
            if (trimmed.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            try
            {
                await ModelLister.ListAsync(trimmed + "/v1", apiKey, timeout, cancellationToken, proxy).ConfigureAwait(false);
                return trimmed + "/v1";
            }
            catch (CaptionException)
            {
                return null;
            }
        }
    }
}
