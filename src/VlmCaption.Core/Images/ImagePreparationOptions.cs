namespace VlmCaption.Images
{
    /// <summary>How images are turned into what the model sees.</summary>
    public sealed class ImagePreparationOptions
    {
        /// <summary>Longest side sent, in pixels; larger images are scaled down, never up. 0 sends the file untouched.</summary>
        public int MaxImageSize { get; init; } = 1536;

        /// <summary>Images whose header declares more pixels are refused before decoding (decompression bombs).</summary>
        public long MaxPixels { get; init; } = 100_000_000;

        /// <summary>Quality of the JPEG sent for opaque images.</summary>
        public int JpegQuality { get; init; } = 90;
    }
}
