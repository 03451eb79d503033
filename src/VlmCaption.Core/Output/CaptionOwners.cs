using System;
using System.Collections.Generic;

namespace VlmCaption.Output
{
    /// <summary>
    /// The same-stem rule, for a folder run and Save-VlmCaption alike: the first image to write a caption file owns
    /// it, and a same-stem sibling (a.jpg beside a.png, both a.txt) fails instead of overwriting its caption.
    /// Callers keep it small: a run forgets a folder's owners when the walk leaves it, Save-VlmCaption remembers
    /// only images that have a sibling.
    /// </summary>
    public sealed class CaptionOwners
    {
        private readonly Dictionary<string, string> owners = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Makes <paramref name="image"/> the owner of <paramref name="target"/>; the error when another image owns it (nothing is changed then).</summary>
        public CaptionException? Claim(string image, string target)
        {
            if (owners.TryGetValue(target, out string? owner) && !string.Equals(owner, image, StringComparison.Ordinal))
            {
                return new CaptionException("CaptionPathConflict", CaptionErrorCategory.WriteError, $"'{image}' and '{owner}' would both write '{target}'; the caption of '{image}' was not written. Rename one of them, or write it with another caption extension.");
            }

            owners[target] = image;
            return null;
        }

        /// <summary>True when some image owns <paramref name="target"/>.</summary>
        public bool Owns(string target) => owners.ContainsKey(target);

        /// <summary>Forgets every owner (a run moving to another folder: same-stem images share one).</summary>
        public void Clear() => owners.Clear();
    }
}
