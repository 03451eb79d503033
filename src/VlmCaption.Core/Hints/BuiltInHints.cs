using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;

namespace VlmCaption.Hints
{
    /// <summary>
    /// The original tool's hint sources, producing its exact texts. One instance serves one run: metadata.json
    /// is read once per folder per instance, so an edited file counts on the next run.
    /// </summary>
    public sealed class BuiltInHints
    {
        /// <summary>Name of the hint that states the image's path.</summary>
        public const string FullPath = "full_path";

        /// <summary>Name of the hint read from the image's JSON sidecar.</summary>
        public const string Json = "json";

        /// <summary>Name of the hint read from metadata.json in the image's folder.</summary>
        public const string Metadata = "metadata";

        /// <summary>Name of the hint read from the image's own EXIF data.</summary>
        public const string Exif = "exif";

        /// <summary>Name of the hint that gives the model the image's current caption, for recaptioning with it as context.</summary>
        public const string ExistingCaption = "existing_caption";

        private static readonly JsonDocumentOptions ReadOptions = new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 };

        private readonly ConcurrentDictionary<string, string?> folderMetadata = new ConcurrentDictionary<string, string?>(StringComparer.Ordinal);
        private readonly string captionExtension;
        private readonly Output.CaptionPlacement placement;

        /// <summary>Hints for one run, whose caption files end in <paramref name="captionExtension"/> and lie where <paramref name="placement"/> puts them (for existing_caption).</summary>
        public BuiltInHints(string captionExtension = Output.CaptionExtension.Default, Output.CaptionPlacement? placement = null)
        {
            this.captionExtension = captionExtension;
            this.placement = placement ?? Output.CaptionPlacement.Beside;
        }

        /// <summary>The built-in names with what each adds.</summary>
        public static IReadOnlyDictionary<string, string> Descriptions { get; } = new Dictionary<string, string>
        {
            [FullPath] = "The image's full path: \"Image file information:\\n- Full path: <path>\\n\".",
            [Json] = "The JSON file beside the image with the same name (<name>.json), re-indented: \"Json Metadata:\\n<json>\\n\".",
            [Metadata] = "metadata.json in the image's folder, one line per key: \"Directory metadata:\\n- <key>: <value>\\n\".",
            [Exif] = "Camera, lens, date taken and GPS position from the image's EXIF data: \"EXIF metadata:\\n- Camera: <make model>\\n…\".",
            [ExistingCaption] = "The image's current caption, from its caption file: \"Existing caption:\\n<caption>\\n\".",
        };

        /// <summary>True for a name this class builds.</summary>
        public static bool IsBuiltIn(string name) => Descriptions.ContainsKey(name);

        /// <summary>
        /// The hint text of one source for one image, or null when the source has nothing to say (no sidecar,
        /// an empty one). Throws <see cref="CaptionException"/> (ErrorId HintFailed) when the source fails.
        /// </summary>
        /// <param name="name">A built-in name.</param>
        /// <param name="imagePath">The image's absolute path.</param>
        /// <param name="displayPath">The path as the user gave or found it, for full_path.</param>
        public string? Build(string name, string imagePath, string displayPath) => name switch
        {
            FullPath => "Image file information:\n- Full path: " + displayPath + "\n",
            Json => JsonSidecar(imagePath),
            Metadata => folderMetadata.GetOrAdd(Path.GetDirectoryName(imagePath) ?? ".", DirectoryMetadata),
            Exif => ExifHint.Build(imagePath),
            ExistingCaption => Output.CaptionFile.Read(placement.CaptionPath(imagePath, captionExtension)) is string caption && caption.Trim().Length > 0
                ? "Existing caption:\n" + caption + "\n"
                : null,
            _ => throw new ArgumentException($"'{name}' is not a built-in hint source. Known: {string.Join(", ", Descriptions.Keys)}."),
        };

        private static string? JsonSidecar(string imagePath)
        {
            string sidecar = Path.Combine(Path.GetDirectoryName(imagePath) ?? ".", Path.GetFileNameWithoutExtension(imagePath) + ".json");
            using JsonDocument? document = Read(sidecar);
            if (document is null || !PythonJson.IsTruthy(document.RootElement))
            {
                return null;
            }

            return "Json Metadata:\n" + PythonJson.Indented(document.RootElement) + "\n";
        }

        private static string? DirectoryMetadata(string folder)
        {
            using JsonDocument? document = Read(Path.Combine(folder, "metadata.json"));
            if (document is null || document.RootElement.ValueKind != JsonValueKind.Object || !PythonJson.IsTruthy(document.RootElement))
            {
                return null;
            }

            var text = new StringBuilder("Directory metadata:\n");
            foreach (KeyValuePair<string, JsonElement> member in PythonJson.Members(document.RootElement))
            {
                text.Append("- ").Append(member.Key).Append(": ").Append(PythonJson.Str(member.Value)).Append('\n');
            }

            return text.ToString();
        }

        /// <summary>The most read of a sidecar or metadata.json: hints are short, and a crafted 500 MB file must not cost gigabytes.</summary>
        public const long MaxHintFileBytes = 1024 * 1024;

        private static JsonDocument? Read(string path)
        {
            switch (RegularFile.Check(path, MaxHintFileBytes, stayInFolder: true))
            {
                case RegularFile.Kind.Missing:
                    return null;
                case RegularFile.Kind.EmptyOrSpecial:
                    throw new CaptionException("HintFailed", CaptionErrorCategory.InvalidData, $"'{path}' is empty, or not a regular file (a FIFO or a device), so it was not read.");
                case RegularFile.Kind.TooLarge:
                    throw new CaptionException("HintFailed", CaptionErrorCategory.LimitsExceeded, $"'{path}' is larger than the {MaxHintFileBytes / 1048576} MiB read for a hint, so it was not read.");
                case RegularFile.Kind.LinkLeavesFolder:
                    throw new CaptionException("HintFailed", CaptionErrorCategory.InvalidData, $"'{path}' is a link to a file outside the image's folder, so it was not followed.");
            }

            try
            {
                byte[] bytes = RegularFile.ReadAllBytes(path, MaxHintFileBytes);
                int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
                return JsonDocument.Parse(new ReadOnlyMemory<byte>(bytes, start, bytes.Length - start), ReadOptions);
            }
            catch (JsonException e)
            {
                throw new CaptionException("HintFailed", CaptionErrorCategory.InvalidData, $"'{path}' is not valid JSON: {e.Message}", e);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new CaptionException("HintFailed", CaptionErrorCategory.ReadError, $"Cannot read '{path}': {e.Message}", e);
            }
        }
    }
}
