using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SixLabors.ImageSharp;

namespace VlmCaption.Output.Datasets
{
    /// <summary>One caption of an image, for a dataset file; an image with several captions comes several times.</summary>
    public sealed class DatasetEntry
    {
        /// <summary>Full path of the image.</summary>
        public string Path { get; set; } = "";

        /// <summary>The caption.</summary>
        public string Caption { get; set; } = "";

        /// <summary>A structured caption's tags (its "tags" list), for the formats that keep tags apart; null for none.</summary>
        public IReadOnlyList<string>? Tags { get; set; }
    }

    /// <summary>What an export is asked for, beside the format.</summary>
    public sealed class DatasetOptions
    {
        /// <summary>The dataset's root: relative paths are relative to it, and default files go in it.</summary>
        public string Root { get; set; } = ".";

        /// <summary>The file to write, for the formats written as one file; null for the format's name in the root.</summary>
        public string? Destination { get; set; }

        /// <summary>Absolute paths instead of paths relative to the root; null for the format's own default.</summary>
        public bool? Absolute { get; set; }

        /// <summary>The caption files' extension, which the dataset configs name.</summary>
        public string CaptionExtension { get; set; } = ".txt";

        /// <summary>The training resolution the dataset configs set.</summary>
        public int Resolution { get; set; } = 1024;

        /// <summary>How often each image is repeated in an epoch, for the dataset configs.</summary>
        public int NumRepeats { get; set; } = 1;
    }

    /// <summary>One file an export writes.</summary>
    public sealed class DatasetFile
    {
        /// <summary>Creates the file's path and text.</summary>
        public DatasetFile(string path, string text)
        {
            Path = path;
            Text = text;
        }

        /// <summary>Where it goes.</summary>
        public string Path { get; }

        /// <summary>What it holds.</summary>
        public string Text { get; }
    }

    /// <summary>What an export would write, what it warns of, and the images it leaves out with an error.</summary>
    public sealed class DatasetPlan
    {
        /// <summary>The files to write.</summary>
        public List<DatasetFile> Files { get; } = new List<DatasetFile>();

        /// <summary>Things the user should know: each names the images and what the trainer does with them.</summary>
        public List<string> Warnings { get; } = new List<string>();

        /// <summary>Images left out, each with its error.</summary>
        public List<KeyValuePair<string, CaptionException>> Failures { get; } = new List<KeyValuePair<string, CaptionException>>();
    }

    /// <summary>
    /// Writes captions in the files trainers read, as their own loaders read them (facts and sources in each
    /// format's writer): Hugging Face imagefolder, kohya sd-scripts' fine-tuning metadata and dataset config,
    /// musubi-tuner's image JSONL and dataset config, diffusion-pipe's captions.json, and a plain CSV.
    /// </summary>
    public static class DatasetExport
    {
        /// <summary>The formats, by name.</summary>
        public static readonly IReadOnlyList<string> Formats = new[] { "ImageFolder", "ImageFolderCsv", "Kohya", "KohyaToml", "Musubi", "MusubiToml", "DiffusionPipe", "Csv" };

        /// <summary>The file a format is written to in the dataset's root, by default; each format its own name, so exports do not collide.</summary>
        public static string DefaultFileName(string format) => format switch
        {
            "ImageFolder" => "metadata.jsonl",
            "ImageFolderCsv" => "metadata.csv",
            "Kohya" => "meta_cap.json",
            "KohyaToml" => "kohya_dataset.toml",
            "Musubi" => "musubi_images.jsonl",
            "MusubiToml" => "musubi_dataset.toml",
            "DiffusionPipe" => DiffusionPipeFormat.FileName,
            _ => "captions.csv",
        };

        /// <summary>True for formats whose paths are absolute unless asked otherwise: musubi opens relative paths from the trainer's working folder, and the dataset configs name folders.</summary>
        public static bool AbsoluteByDefault(string format) => format is "Musubi" or "KohyaToml" or "MusubiToml";

        /// <summary>The path of an image relative to the root, with forward slashes; null for one outside it.</summary>
        public static string? Relative(string root, string image) => RelativePath.Under(root, image)?.Replace('\\', '/');

        /// <summary>Plans the export of <paramref name="entries"/> in <paramref name="format"/>: the files, the warnings and the images left out.</summary>
        public static DatasetPlan Plan(string format, IReadOnlyList<DatasetEntry> entries, DatasetOptions options)
        {
            if (!Formats.Contains(format))
            {
                throw new ArgumentException($"'{format}' is not a dataset format; the formats are {string.Join(", ", Formats)}.");
            }

            var plan = new DatasetPlan();
            bool absolute = options.Absolute ?? AbsoluteByDefault(format);
            string root = System.IO.Path.GetFullPath(options.Root);
            List<DatasetImage> images = Group(entries);
            if (format != "DiffusionPipe" && (!absolute || format is "ImageFolder" or "ImageFolderCsv"))
            {
                images = InsideRoot(plan, images, root, format is "ImageFolder" or "ImageFolderCsv" ? "" : ", or -PathStyle Absolute");
            }

            string target = options.Destination ?? System.IO.Path.Combine(root, DefaultFileName(format));
            switch (format)
            {
                case "ImageFolder":
                case "ImageFolderCsv":
                    ImageFolderFormat.Plan(plan, format == "ImageFolderCsv", root, target, images);
                    break;
                case "Kohya":
                    KohyaFormat.PlanMetadata(plan, target, images, absolute);
                    break;
                case "KohyaToml":
                    KohyaFormat.PlanConfig(plan, target, root, images, absolute, options);
                    break;
                case "Musubi":
                    MusubiFormat.PlanJsonl(plan, target, images, absolute);
                    break;
                case "MusubiToml":
                    MusubiFormat.PlanConfig(plan, target, root, images, absolute, options);
                    break;
                case "DiffusionPipe":
                    DiffusionPipeFormat.Plan(plan, images);
                    break;
                default:
                    CsvFormat.Plan(plan, target, images, absolute);
                    break;
            }

            return plan;
        }

        /// <summary>The image's size as its header says, upright (EXIF orientations 5 to 8 swap the sides); 0 x 0 when unreadable.</summary>
        public static (int Width, int Height) Size(string image)
        {
            try
            {
                if (RegularFile.Check(image, long.MaxValue) != RegularFile.Kind.Readable)
                {
                    return (0, 0);
                }

                using FileStream stream = File.OpenRead(image);
                IImageInfo? info = Image.Identify(stream);
                if (info is null)
                {
                    return (0, 0);
                }

                ushort orientation = info.Metadata.ExifProfile?.GetValue(SixLabors.ImageSharp.Metadata.Profiles.Exif.ExifTag.Orientation)?.Value ?? 1;
                return orientation >= 5 && orientation <= 8 ? (info.Height, info.Width) : (info.Width, info.Height);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is UnknownImageFormatException || e is InvalidImageContentException)
            {
                return (0, 0);
            }
        }

        /// <summary>
        /// The images below the root, each given its relative path: a path relative to the root needs the image below
        /// it, so one outside fails alone (ImageOutsideRoot) and the rest is written.
        /// </summary>
        private static List<DatasetImage> InsideRoot(DatasetPlan plan, List<DatasetImage> images, string root, string otherWay)
        {
            var inside = new List<DatasetImage>(images.Count);
            foreach (DatasetImage image in images)
            {
                image.Relative = Relative(root, image.Path);
                if (image.Relative is null)
                {
                    plan.Failures.Add(new KeyValuePair<string, CaptionException>(image.Path, new CaptionException("ImageOutsideRoot", CaptionErrorCategory.InvalidArgument,
                        $"'{image.Path}' is not inside the dataset root '{root}', so it has no path relative to it and was left out. Pass -Root a folder that holds every image{otherWay}.")));
                }
                else
                {
                    inside.Add(image);
                }
            }

            return inside;
        }

        /// <summary>The entries as images, each with its captions in the order they came, images in the order first met.</summary>
        private static List<DatasetImage> Group(IReadOnlyList<DatasetEntry> entries)
        {
            var byPath = new Dictionary<string, DatasetImage>(StringComparer.Ordinal);
            var images = new List<DatasetImage>();
            foreach (DatasetEntry entry in entries)
            {
                string path = System.IO.Path.GetFullPath(entry.Path);
                if (!byPath.TryGetValue(path, out DatasetImage? image))
                {
                    byPath[path] = image = new DatasetImage(path);
                    images.Add(image);
                }

                image.Captions.Add(entry.Caption);
                image.Tags ??= entry.Tags;
            }

            return images;
        }
    }

    /// <summary>An image of an export with all its captions.</summary>
    internal sealed class DatasetImage
    {
        public DatasetImage(string path)
        {
            Path = path;
        }

        public string Path { get; }

        /// <summary>The path relative to the root with forward slashes, when the format needs it.</summary>
        public string? Relative { get; set; }

        public List<string> Captions { get; } = new List<string>();

        /// <summary>The tags of the image's structured caption, if it has them.</summary>
        public IReadOnlyList<string>? Tags { get; set; }

        /// <summary>The path the format writes.</summary>
        public string Written(bool absolute) => absolute ? Path : Relative!;
    }
}
