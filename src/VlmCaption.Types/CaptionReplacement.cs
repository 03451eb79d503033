namespace VlmCaption
{
    /// <summary>One ordered replacement of the post-processing rules: a .NET regular expression and what replaces each match.</summary>
    public sealed class CaptionReplacement
    {
        /// <summary>The regular expression.</summary>
        public string Pattern { get; set; } = "";

        /// <summary>The replacement ($1 and ${name} refer to groups); empty removes the match.</summary>
        public string Replacement { get; set; } = "";

        /// <inheritdoc />
        public override string ToString() => $"{Pattern} -> {Replacement}";
    }
}
