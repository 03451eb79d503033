using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace VlmCaption.Output
{
    /// <summary>
    /// Where each model's captions of an image are when several models are compared: a caption file of each model's
    /// own (photo.&lt;model&gt;.txt, which no trainer reads as photo's caption until one is picked) or jsonl lines that
    /// name the model; and which models have yet to caption an image, so that a run goes on where it stopped.
    /// </summary>
    public static class ModelCaptions
    {
        /// <summary>The caption file of <paramref name="model"/> for <paramref name="image"/> (txt output).</summary>
        public static string PathFor(CaptionConfig config, CaptionPlacement placement, string image, string model) =>
            placement.CaptionPath(image, ModelList.Extension(model, config.CaptionExtension));

        /// <summary>True when <paramref name="model"/>'s caption of <paramref name="image"/> is there.</summary>
        public static bool Exists(CaptionConfig config, CaptionPlacement placement, string image, string model)
        {
            if (config.OutputFormat == "jsonl")
            {
                return JsonlCaptionFile.HasCaption(placement.Mirror(image), model, JsonlCaptionFile.PromptField(config.Prompts));
            }

            var caption = new FileInfo(PathFor(config, placement, image, model));
            return caption.Exists && caption.Length > 0;
        }

        /// <summary>
        /// The models that have not captioned <paramref name="image"/> yet, in the configuration's order; with one
        /// model, <paramref name="model"/> (the one the server was asked for) unless the image has its caption.
        /// </summary>
        public static IReadOnlyList<string> Missing(CaptionConfig config, CaptionPlacement placement, string image, string model)
        {
            if (config.Models.Length < 2)
            {
                return CaptionFile.ExistsFor(config, placement, image, model) ? Array.Empty<string>() : new[] { model };
            }

            if (config.OutputFormat == "jsonl")
            {
                // One read of the image's jsonl file for every model, not one a model.
                string prompt = JsonlCaptionFile.PromptField(config.Prompts);
                var captioned = new HashSet<string>(JsonlCaptionFile.Entries(placement.Mirror(image)).Where(e => e.Prompt == prompt && e.Text.Length > 0).Select(e => e.Model), StringComparer.Ordinal);
                return config.Models.Where(name => !captioned.Contains(name)).ToList();
            }

            return config.Models.Where(name => !Exists(config, placement, image, name)).ToList();
        }
    }
}
