using System;

namespace VlmCaption.Images
{
    /// <summary>How images are turned into what the model sees.</summary>
    /// <remarks>
    /// The properties named for a caption.yaml key take their defaults from the catalogue (<see cref="ConfigOptions"/>),
    /// are copied from a configuration by name (<see cref="ConfigValues.Project{T}"/>), and are all recorded in a batch
    /// run's settings: an image option added here and to the catalogue is never left out of either.
    /// </remarks>
    public sealed class ImagePreparationOptions
    {
        /// <summary>Options of the catalogue's defaults.</summary>
        public ImagePreparationOptions() => ConfigValues.ApplyDefaults(this);

        /// <summary>Options as <paramref name="config"/> sets them.</summary>
        public static ImagePreparationOptions From(CaptionConfig config) => ConfigValues.Project<ImagePreparationOptions>(config);

        /// <summary>What to lower for a smaller image, as a message says it.</summary>
        public const string SmallerAdvice = "lower max_image_bytes or max_image_size";

        /// <summary>Longest side sent, in pixels; larger images are scaled down, never up. 0 sends the file untouched.</summary>
        public int MaxImageSize { get; init; }

        /// <summary>Images whose header declares more pixels are refused before decoding (decompression bombs).</summary>
        public long MaxPixels { get; init; }

        /// <summary>Largest file sent untouched (with MaxImageSize 0): servers refuse bigger ones anyway.</summary>
        public long MaxPassThroughBytes { get; init; } = 50L * 1024 * 1024;

        /// <summary>Images decoded at once, whatever the number in flight: decoding is CPU-bound, and this bounds memory.</summary>
        public int MaxConcurrentDecodes { get; init; } = System.Environment.ProcessorCount;

        /// <summary>Largest encoded image sent; a larger one is encoded again at lower quality, then smaller.</summary>
        public long MaxImageBytes { get; init; }

        /// <summary>Frames taken from each clip, spread evenly over it.</summary>
        public int ClipFrames { get; init; }

        /// <summary>Above 0: a frame from the middle of every this many seconds instead, at most <see cref="ClipFrames"/>.</summary>
        public double ClipEverySec { get; init; }

        /// <summary>frames, or video: the clip itself, cut to <see cref="ClipMaxSec"/> and scaled, for servers that read video.</summary>
        public string ClipAs { get; init; } = "frames";

        /// <summary>With <see cref="ClipAs"/> video, the most seconds of a clip sent.</summary>
        public int ClipMaxSec { get; init; }

        /// <summary>The ffmpeg to take them with (ffprobe beside it); null or empty: the first on PATH.</summary>
        public string? FfmpegPath { get; init; }

        /// <summary>True when an encoded image (or a clip's frame) of <paramref name="bytes"/> is within the byte cap.</summary>
        public bool Fits(long bytes) => bytes <= MaxImageBytes;

        /// <summary>The most bytes a clip sent as itself may take: what its frames could have taken.</summary>
        public long ClipBytes => Math.Max(1, ClipFrames) * MaxImageBytes;

        /// <summary>What to change for an image or frame that stays over the byte cap, as a message says it.</summary>
        public string OverCapAdvice => $"the byte cap is {MaxImageBytes} bytes: lower max_image_size (-MaxImageSize) or raise max_image_bytes (-MaxImageBytes)";

        /// <summary>Quality of the JPEG sent for opaque images.</summary>
        public int JpegQuality { get; init; } = 90;
    }
}
