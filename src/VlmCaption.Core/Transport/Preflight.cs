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
                catch (CaptionException e) when (e.StatusCode == 404 && model.Length > 0)
                {
                    warnings.Add($"{baseUrl} has no model list (HTTP 404 at /models), so the model '{model}' could not be checked before the first image.");
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

        /// <summary>Listed as is, or with a "models/" style prefix (Gemini lists "models/gemini-2.0-flash").</summary>
        public static bool IsListed(IEnumerable<VlmModel> models, string model) =>
            models.Any(m => m.Id == model || m.Id.EndsWith("/" + model, StringComparison.Ordinal));

        private static string Listing(IReadOnlyList<VlmModel> models) =>
            models.Count == 0 ? "lists no models (is one loaded?)" : "lists " + string.Join(", ", models.Select(m => m.Id));
    }
}
