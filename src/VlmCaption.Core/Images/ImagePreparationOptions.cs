namespace VlmCaption.Images
{
    /// <summary>How images are turned into what the model sees.</summary>
    public sealed class ImagePreparationOptions
    {
        /// <summary>Longest side sent, in pixels; larger images are scaled down, never up. 0 sends the file untouched.</summary>
        public int MaxImageSize { get; init; } = 1536;

        /// <summary>Images whose header declares more pixels are refused before decoding (decompression bombs).</summary>
        public long MaxPixels { get; init; } = 100_000_000;

        /// <summary>Largest file sent untouched (with MaxImageSize 0): servers refuse bigger ones anyway.</summary>
        public long MaxPassThroughBytes { get; init; } = 50L * 1024 * 1024;

        /// <summary>Images decoded at once, whatever the number in flight: decoding is CPU-bound, and this bounds memory.</summary>
        public int MaxConcurrentDecodes { get; init; } = System.Environment.ProcessorCount;

        /// <summary>
        /// The default byte cap: 3.75 MB of image is 5 000 000 characters of base64, under Anthropic's 5 MB measured on
        /// the base64 (anthropics/claude-code#19631), and so under OpenAI's 20 MB and every local server's limit.
        /// </summary>
        public const long DefaultMaxImageBytes = 3_750_000;

        /// <summary>Largest encoded image sent; a larger one is encoded again at lower quality, then smaller.</summary>
        public long MaxImageBytes { get; init; } = DefaultMaxImageBytes;

        /// <summary>Quality of the JPEG sent for opaque images.</summary>
        public int JpegQuality { get; init; } = 90;
    }
}
