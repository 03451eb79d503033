using System;
using System.IO;

namespace VlmCaption.Output
{
    /// <summary>
    /// Where an image's captions live: beside the image, or, with an output folder, in a tree that mirrors the
    /// image folders under the base directory (for read-only image shares). Every caption file, jsonl file and
    /// claim is found through <see cref="Mirror"/>, so skip, resume and two runs look where the writes go.
    /// </summary>
    public sealed class CaptionPlacement
    {
        /// <summary>Captions beside their images.</summary>
        public static readonly CaptionPlacement Beside = new CaptionPlacement(null, null);

        private readonly string? root;

        /// <summary>Captions under <paramref name="destination"/>, mirroring the folders under <paramref name="imageRoot"/>; beside the images when <paramref name="destination"/> is null.</summary>
        public CaptionPlacement(string? imageRoot, string? destination)
        {
            if (destination is not null)
            {
                root = Path.GetFullPath(imageRoot ?? throw new ArgumentNullException(nameof(imageRoot)));
                Destination = Path.GetFullPath(destination);
            }
        }

        /// <summary>Where the configuration's captions go: output_directory mirroring base_directory, or beside the images.</summary>
        public static CaptionPlacement For(CaptionConfig config) =>
            config.OutputDirectory is null ? Beside : new CaptionPlacement(config.BaseDirectory, config.OutputDirectory);

        /// <summary>The output folder; null when captions go beside their images.</summary>
        public string? Destination { get; }

        /// <summary>The folder whose tree the output folder mirrors.</summary>
        public string? ImageRoot => root;

        /// <summary>
        /// The image's path moved into the output folder (the same relative path), from which the caption, jsonl and
        /// claim paths follow as they do beside the image. Throws <see cref="CaptionException"/> (OutsideBaseDirectory)
        /// for an image outside the mirrored tree, which has no place in it.
        /// </summary>
        public string Mirror(string imagePath)
        {
            if (Destination is null)
            {
                return imagePath;
            }

            string? relative = RelativePath.Under(root!, imagePath);
            if (relative is null)
            {
                throw new CaptionException("OutsideBaseDirectory", CaptionErrorCategory.InvalidArgument,
                    $"'{imagePath}' is not under '{root}', so it has no place in the output folder '{Destination}'. Set the base directory to a folder that holds it.");
            }

            return Path.Combine(Destination, relative);
        }

        /// <summary>The caption file of an image, with <paramref name="extension"/> (".txt").</summary>
        public string CaptionPath(string imagePath, string extension) => CaptionFile.PathFor(Mirror(imagePath), extension);

        /// <summary>The jsonl file of an image.</summary>
        public string JsonlPath(string imagePath) => JsonlCaptionFile.PathFor(Mirror(imagePath));

        /// <summary>Creates the mirrored folder that will hold <paramref name="captionPath"/>, before a write.</summary>
        public void EnsureFolder(string captionPath)
        {
            if (Destination is null)
            {
                return;
            }

            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(captionPath)!);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CaptionException("CaptionWriteFailed", CaptionErrorCategory.WriteError, $"Cannot make the folder for '{captionPath}' in the output folder: {e.Message}", e);
            }
        }

        /// <summary>A short description for -WhatIf and -Verbose.</summary>
        public override string ToString() => Destination is null ? "beside the images" : $"in '{Destination}'";
    }
}
