using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace VlmCaption
{
    /// <summary>Several models compared over the same images: their names checked, and the name each one's caption files take.</summary>
    public static class ModelList
    {
        /// <summary>Throws <see cref="CaptionException"/> for a list with an empty name or a name twice; <paramref name="what"/> names where it came from.</summary>
        public static void Check(IReadOnlyList<string> names, string what = "-Model")
        {
            if (names.Count == 0 || names.Any(name => name.Trim().Length == 0))
            {
                throw new CaptionException("InvalidModel", CaptionErrorCategory.InvalidArgument, $"{what} must name a model, or list the models to compare, with no empty name.");
            }

            if (names.GroupBy(name => name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(group => group.Count() > 1) is { } twice)
            {
                throw new CaptionException("InvalidModel", CaptionErrorCategory.InvalidArgument, $"{what} lists '{twice.Key}' twice; each model is asked once an image.");
            }
        }

        /// <summary>
        /// The part of a caption file's name that says which model wrote it (photo.&lt;name&gt;.txt): the model's name with
        /// every character that is not a letter, digit, dot, dash or underscore made an underscore, so that
        /// "qwen/qwen2.5-vl-7b:q4" becomes "qwen_qwen2.5-vl-7b_q4" and no name can reach another folder.
        /// </summary>
        public static string FileName(string model)
        {
            var name = new StringBuilder(model.Length);
            foreach (char c in model.Trim())
            {
                name.Append(c < 128 && (char.IsLetterOrDigit(c) || c == '.' || c == '-' || c == '_') ? c : '_');
            }

            string text = name.ToString().Trim('.');
            return text.Length == 0 ? "_" : text;
        }

        /// <summary>The caption extension of a model's files: ".&lt;name&gt;" before <paramref name="extension"/> (".txt").</summary>
        public static string Extension(string model, string extension) => "." + FileName(model) + extension;
    }
}
