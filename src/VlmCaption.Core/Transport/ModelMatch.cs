using System;
using System.Collections.Generic;
using System.Linq;

namespace VlmCaption.Transport
{
    /// <summary>
    /// Finds the model a name means in a server's list, the way the servers themselves resolve names, so that a
    /// name the server takes is not refused and one it will refuse is caught before the first image.
    /// </summary>
    public static class ModelMatch
    {
        /// <summary>At most this many names are quoted in a message; a list of 200 000 must not make a 43-million-character error.</summary>
        public const int MaxNamesShown = 30;

        /// <summary>
        /// The name to send for <paramref name="wanted"/>, with a note when it differs from what was typed; throws
        /// <see cref="CaptionException"/> (ModelNotFound, ModelAmbiguous) naming what the server lists.
        /// </summary>
        public static (string Model, string? Note) Resolve(IReadOnlyList<VlmModel> listed, string wanted, string baseUrl)
        {
            if (listed.Any(m => m.Id == wanted))
            {
                return (wanted, null);
            }

            // Ollama takes "name" for "name:latest" (server/routes.go resolves the tag itself).
            if (wanted.IndexOf(':') < 0 && listed.Any(m => m.Id == wanted + ":latest"))
            {
                return (wanted, null);
            }

            // Gemini lists "models/gemini-2.0-flash"; its chat is reported to take either name, so the one typed is sent.
            if (listed.Any(m => m.Id == "models/" + wanted))
            {
                return (wanted, null);
            }

            // llama-server in single-model mode (one entry with owned_by "llamacpp" and no router status) and KoboldCpp
            // answer whatever model name they are sent (server-context.cpp; koboldcpp.py).
            if (listed.Count == 1 && ServesAnyName(listed[0]))
            {
                return (wanted, null);
            }

            List<VlmModel> sameButCase = listed.Where(m => string.Equals(m.Id, wanted, StringComparison.OrdinalIgnoreCase)).ToList();
            List<VlmModel> candidates = sameButCase.Count > 0
                ? sameButCase
                : listed.Where(m => m.Id.EndsWith("/" + wanted, StringComparison.OrdinalIgnoreCase)).ToList();
            if (candidates.Count == 1)
            {
                // vLLM and OpenRouter list "Qwen/Qwen2.5-VL-7B-Instruct" and answer 404 to the short name.
                string id = candidates[0].Id;
                return (id, $"{baseUrl} lists the model '{wanted}' as '{id}'; that name is sent.");
            }

            if (candidates.Count > 1)
            {
                throw new CaptionException("ModelAmbiguous", CaptionErrorCategory.InvalidArgument, $"The model '{wanted}' could be any of {Names(candidates)} at {baseUrl}. Name one of them exactly.");
            }

            List<VlmModel> near = listed.Where(m => m.Id.IndexOf(wanted, StringComparison.OrdinalIgnoreCase) >= 0).ToList();
            string hint = near.Count > 0 ? $" Did you mean {Names(near)}?" : "";
            throw new CaptionException("ModelNotFound", CaptionErrorCategory.ObjectNotFound, $"{baseUrl} does not list the model '{wanted}'; it {Listing(listed)}.{hint} Load the model on the server, or name one of those.");
        }

        /// <summary>"lists a, b, c", at most <see cref="MaxNamesShown"/> of them, or "lists no models (is one loaded?)".</summary>
        public static string Listing(IReadOnlyList<VlmModel> models) =>
            models.Count == 0 ? "lists no models (is one loaded?)" : "lists " + Names(models);

        /// <summary>True for a server that answers whatever name it is sent.</summary>
        public static bool ServesAnyName(VlmModel model) =>
            (IsLlamaServer(model) && model.Status is null) || model.OwnedBy == "koboldcpp";

        /// <summary>True for a model listed by llama.cpp's llama-server, single-model or router (tools/server/server-context.cpp, server-models.cpp).</summary>
        public static bool IsLlamaServer(VlmModel model) => model.OwnedBy == "llamacpp";

        private static string Names(IReadOnlyCollection<VlmModel> models)
        {
            string shown = string.Join(", ", models.Take(MaxNamesShown).Select(m => m.Id));
            return models.Count > MaxNamesShown ? $"{shown} and {models.Count - MaxNamesShown} more (Get-VlmModel lists them all)" : shown;
        }
    }
}
