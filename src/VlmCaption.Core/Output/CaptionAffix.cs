namespace VlmCaption.Output
{
    /// <summary>
    /// Checks a prefix and suffix (trigger words) before they are joined to captions as they are: "ohwx" without
    /// its separator makes "ohwxA red car", and a dataset written that way trains the wrong token.
    /// </summary>
    public static class CaptionAffix
    {
        /// <summary>What is wrong with the prefix or suffix, for a warning; null when both are joined cleanly.</summary>
        public static string? Problem(string prefix, string suffix)
        {
            if (prefix.Length > 0 && char.IsLetterOrDigit(prefix[prefix.Length - 1]))
            {
                return $"The prefix '{prefix}' ends without a separator, so captions would read '{prefix}A photo of…'. Trigger words usually end in ', ' or ' ': '{prefix}, '.";
            }

            if (suffix.Length > 0 && char.IsLetterOrDigit(suffix[0]))
            {
                return $"The suffix '{suffix}' starts without a separator, so captions would read '…at dusk.{suffix}'. Start it with ', ' or ' ': ', {suffix}'.";
            }

            return null;
        }
    }
}
