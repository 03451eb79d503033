using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace VlmCaption.Transport
{
    /// <summary>
    /// The check before the first image: every endpoint answers and lists the model. An unreachable server or
    /// an unknown model is then one clear error instead of one per image.
    /// </summary>
    public static class Preflight
    {
        /// <summary>
        /// Checks the endpoints and returns the model to use: <paramref name="model"/>, or the only one listed when
        /// it is empty. Servers without a model list (404 at /models) pass with a line added to <paramref name="warnings"/>.
        /// </summary>
        public static async Task<string> CheckAsync(IReadOnlyList<string> baseUrls, string apiKey, string model, TimeSpan timeout, ICollection<string> warnings, CancellationToken cancellationToken)
        {
            foreach (string baseUrl in baseUrls)
            {
                IReadOnlyList<VlmModel> models;
                try
                {
                    models = await ModelLister.ListAsync(baseUrl, apiKey, timeout, cancellationToken).ConfigureAwait(false);
                }
                catch (CaptionException e) when (e.StatusCode == 404)
                {
                    // A base URL without /v1 is the usual cause: then every chat request would be a 404 too.
                    if (await MissingV1Async(baseUrl, apiKey, timeout, cancellationToken).ConfigureAwait(false) is string fixedUrl)
                    {
                        throw new CaptionException("BaseUrlMissingV1", CaptionErrorCategory.InvalidArgument, $"{baseUrl}/models answered HTTP 404 but {fixedUrl}/models lists models: the base URL needs /v1. Use -BaseUrl {fixedUrl} (base_url in caption.yaml).")
                        {
                            StatusCode = 404,
                        };
                    }

                    if (model.Length == 0)
                    {
                        throw new CaptionException("ModelNotSpecified", CaptionErrorCategory.InvalidArgument, $"{baseUrl}/models answered HTTP 404, so no model could be chosen. Check that the URL is the API root (it usually ends in /v1), and name the model with -Model (or 'model' in caption.yaml).")
                        {
                            StatusCode = 404,
                        };
                    }

                    warnings.Add($"{baseUrl} has no model list (HTTP 404 at /models), so the model '{model}' could not be checked before the first image. If the first image fails with HTTP 404 too, the URL is not the API root (it usually ends in /v1).");
                    continue;
                }

                if (model.Length == 0)
                {
                    model = models.Count == 1
                        ? models[0].Id
                        : throw new CaptionException("ModelNotSpecified", CaptionErrorCategory.InvalidArgument, $"No model was named and {baseUrl} {Listing(models)}. Name one with -Model (or 'model' in caption.yaml).");
                }
                else if (!IsListed(models, model))
                {
                    throw new CaptionException("ModelNotFound", CaptionErrorCategory.ObjectNotFound, $"{baseUrl} does not list the model '{model}'; it {Listing(models)}. Load the model on the server, or name one of those.");
                }
            }

            return model;
        }

        /// <summary>The URL with /v1 added when that one lists models and the URL itself does not end in /v1; else null.</summary>
        private static async Task<string?> MissingV1Async(string baseUrl, string apiKey, TimeSpan timeout, CancellationToken cancellationToken)
        {
            string trimmed = baseUrl.TrimEnd('/');
            if (trimmed.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            try
            {
                await ModelLister.ListAsync(trimmed + "/v1", apiKey, timeout, cancellationToken).ConfigureAwait(false);
                return trimmed + "/v1";
            }
            catch (CaptionException)
            {
                return null;
            }
        }

        /// <summary>Listed as is, or with a "models/" style prefix (Gemini lists "models/gemini-2.0-flash").</summary>
        public static bool IsListed(IEnumerable<VlmModel> models, string model) =>
            models.Any(m => m.Id == model || m.Id.EndsWith("/" + model, StringComparison.Ordinal));

        private static string Listing(IReadOnlyList<VlmModel> models) =>
            models.Count == 0 ? "lists no models (is one loaded?)" : "lists " + string.Join(", ", models.Select(m => m.Id));
    }
}
