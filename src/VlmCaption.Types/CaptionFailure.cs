namespace VlmCaption
{
    /// <summary>An image a run could not caption, and why.</summary>
    public sealed class CaptionFailure
    {
        /// <summary>Full path of the image.</summary>
        public string Path { get; set; } = "";

        /// <summary>The image as a provider path, which binds to -LiteralPath: $summary.Failures | Get-VlmCaption captions them again.</summary>
        public string PSPath => ProviderPath.Of(Path);

        /// <summary>The stable error identifier, e.g. RequestFailed.</summary>
        public string ErrorId { get; set; } = "";

        /// <summary>What went wrong and what to do.</summary>
        public string Message { get; set; } = "";

        /// <inheritdoc />
        public override string ToString() => $"{Path}: {Message}";
    }
}
