using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SixLabors.ImageSharp;

namespace VlmCaption.Output
{
    /// <summary>One image and its caption, for a dataset file.</summary>
    public sealed class DatasetEntry
    {
        /// <summary>Full path of the image.</summary>
        public string Path { get; set; } = "";

        /// <summary>The caption.</summary>
        public string Caption { get; set; } = "";
    }

    /// <summary>
    /// Writes the single-file formats trainers read. Hugging Face datasets' imagefolder: metadata.jsonl or
    /// metadata.csv beside the images, a file_name column relative to that file and any other columns as features
    /// (huggingface.co/docs/datasets/image_dataset#imagefolder). kohya-ss/sd-scripts' fine-tuning metadata: a JSON
    /// object keyed by the image path without its extension, each value {"caption": ...}
    /// (finetune/merge_captions_to_metadata.py). kohya-ss/musubi-tuner's image_jsonl_file: one
    /// {"image_path", "caption"} line per image (dataset/dataset_config.md). And a plain CSV with the image size.
    /// </summary>
    public static class DatasetExport
    {
        /// <summary>The formats, by name.</summary>
        public static readonly IReadOnlyList<string> Formats = new[] { "ImageFolder", "ImageFolderCsv", "Kohya", "Musubi", "Csv" };

        private static readonly JsonWriterOptions Json = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        /// <summary>The file a format is written to in the dataset's root, by default.</summary>
        public static string DefaultFileName(string format) => format switch
        {
            "ImageFolder" => "metadata.jsonl",
            "ImageFolderCsv" => "metadata.csv",
            "Kohya" => "meta_cap.json",
            "Musubi" => "metadata.jsonl",
            _ => "captions.csv",
        };

        /// <summary>The path of an image relative to the root, with forward slashes; throws <see cref="ArgumentException"/> for one outside it.</summary>
        public static string Relative(string root, string image)
        {
            return (RelativePath.Under(root, image) ?? throw new ArgumentException($"'{image}' is not inside the dataset root '{root}'; pass -Root a folder that holds every image."))
                .Replace('\\', '/');
        }

        /// <summary>The text of the dataset file in the format, for the entries in their order.</summary>
        public static string Write(string format, string root, IReadOnlyList<DatasetEntry> entries)
        {
            var text = new StringBuilder();
            switch (format)
            {
                case "ImageFolder":
                    foreach (DatasetEntry entry in entries)
                    {
                        text.Append(Line(json => { json.WriteString("file_name", Relative(root, entry.Path)); json.WriteString("text", entry.Caption); })).Append('\n');
                    }

                    break;
                case "Musubi":
                    foreach (DatasetEntry entry in entries)
                    {
                        text.Append(Line(json => { json.WriteString("image_path", System.IO.Path.GetFullPath(entry.Path)); json.WriteString("caption", entry.Caption); })).Append('\n');
                    }

                    break;
                case "Kohya":
                    text.Append(Line(json =>
                    {
                        foreach (DatasetEntry entry in entries)
                        {
                            string relative = Relative(root, entry.Path);
                            json.WriteStartObject(relative.Substring(0, relative.Length - System.IO.Path.GetExtension(relative).Length));
                            json.WriteString("caption", entry.Caption);
                            json.WriteEndObject();
                        }
                    }, indented: true)).Append('\n');
                    break;
                case "ImageFolderCsv":
                    text.Append("file_name,text\n");
                    foreach (DatasetEntry entry in entries)
                    {
                        text.Append(Csv(Relative(root, entry.Path))).Append(',').Append(Csv(entry.Caption)).Append('\n');
                    }

                    break;
                default:
                    text.Append("file_name,caption,width,height\n");
                    foreach (DatasetEntry entry in entries)
                    {
                        (int width, int height) = Size(entry.Path);
                        text.Append(Csv(Relative(root, entry.Path))).Append(',').Append(Csv(entry.Caption)).Append(',').Append(width).Append(',').Append(height).Append('\n');
                    }

                    break;
            }

            return text.ToString();
        }

        /// <summary>The image's size as its header says, upright (EXIF orientations 5 to 8 swap the sides); 0 x 0 when unreadable.</summary>
        public static (int Width, int Height) Size(string image)
        {
            try
            {
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

        private static string Line(Action<Utf8JsonWriter> write, bool indented = false)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = Json.Encoder, Indented = indented }))
            {
                json.WriteStartObject();
                write(json);
                json.WriteEndObject();
            }

            return Encoding.UTF8.GetString(buffer.ToArray());
        }

        // RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
        private static string Csv(string field) =>
            field.IndexOfAny(new[] { ',', '"', '\n', '\r' }) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
    }
}
