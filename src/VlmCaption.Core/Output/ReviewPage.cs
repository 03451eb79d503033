using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using System.Threading;
using System.Threading.Tasks;
using VlmCaption.Images;

namespace VlmCaption.Output
{
    /// <summary>One row of the review page.</summary>
    public sealed class ReviewItem
    {
        /// <summary>The image's full path.</summary>
        public string Path { get; set; } = "";

        /// <summary>The caption; empty for a failure.</summary>
        public string Caption { get; set; } = "";

        /// <summary>Succeeded, Truncated, Failed or whatever the object said.</summary>
        public string Status { get; set; } = CaptionStatus.Succeeded;

        /// <summary>The model, if known.</summary>
        public string? Model { get; set; }

        /// <summary>Completion tokens, if known.</summary>
        public int? Tokens { get; set; }

        /// <summary>Seconds the image took, if known.</summary>
        public double? Seconds { get; set; }

        /// <summary>The original image's size, 0 when not known.</summary>
        public int Width { get; set; }

        /// <summary>The original image's height.</summary>
        public int Height { get; set; }

        /// <summary>Why the image failed, for failures.</summary>
        public string? Message { get; set; }
    }

    /// <summary>
    /// Writes the review page: one self-contained HTML file (styles, script, thumbnails and data inside it, nothing
    /// fetched) that lists images beside their captions with filtering, search and sorting. Rows are written as
    /// they come, into a temporary file renamed over the page at the end, so neither the rows nor the thumbnails are
    /// held in memory and a stopped write leaves the old page.
    /// </summary>
    public sealed class ReviewPage : IDisposable
    {
        private static readonly JsonWriterOptions JsonOptions = new JsonWriterOptions
        {
            // Escapes < > & ' " and the like as \u escapes, so no caption or name can close the script element.
            Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
        };

        private static readonly string Style = Resource("review.css");
        private static readonly string Script = Resource("review.js");

        private readonly string path;
        private readonly string folder;
        private readonly string root;
        private readonly string temporary;
        private readonly FileStream stream;
        private readonly ImagePreparer? thumbnails;
        private readonly CancellationToken cancellationToken;
        private readonly Queue<(ReviewItem Item, Task<PreparedImage>? Thumbnail)> pending = new Queue<(ReviewItem, Task<PreparedImage>?)>();
        private readonly int lookAhead = Math.Max(4, Environment.ProcessorCount * 4);
        private int count;
        private bool committed;
        private string lastPath = "";

        /// <summary>
        /// Starts the page at <paramref name="path"/>; names are shown relative to <paramref name="root"/>. Thumbnails
        /// at most <paramref name="thumbnailSize"/> pixels a side (0: none) are made on every core, a few images ahead,
        /// with the same limits as images sent to a model (pixel budget, capped memory, EXIF orientation).
        /// </summary>
        public ReviewPage(string path, string root, string title, int thumbnailSize, CancellationToken cancellationToken = default)
        {
            this.cancellationToken = cancellationToken;
            if (thumbnailSize > 0)
            {
                thumbnails = new ImagePreparer(new ImagePreparationOptions { MaxImageSize = thumbnailSize, JpegQuality = 60, ClipFrames = 4, ClipAs = "frames" });
            }

            this.path = System.IO.Path.GetFullPath(path);
            folder = System.IO.Path.GetDirectoryName(this.path) ?? ".";
            this.root = System.IO.Path.GetFullPath(root);
            temporary = CaptionFile.TemporaryPathIn(folder);
            stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 65536);
            Write(Head(title));
        }

        /// <summary>Rows written so far.</summary>
        public int Count => count;

        /// <summary>The policy the page declares: nothing may load from anywhere, only its own script and style run, images only from data: URIs.</summary>
        public static string ContentSecurityPolicy =>
            $"default-src 'none'; img-src data:; style-src '{Hash(Style)}'; script-src '{Hash(Script)}'; base-uri 'none'; form-action 'none'";

        /// <summary>
        /// Adds a row; its thumbnail is made in the background, and rows are written in the order they were added.
        /// Returns what went wrong with the thumbnails of the rows written meanwhile (the rows are kept without one).
        /// </summary>
        public IReadOnlyList<string> Add(ReviewItem item)
        {
            var problems = new List<string>();

            // Several models' rows of one image come together: its thumbnail is made and written once, with the first.
            bool again = item.Path.Length > 0 && string.Equals(item.Path, lastPath, StringComparison.Ordinal);
            lastPath = item.Path;
            Task<PreparedImage>? thumbnail = thumbnails is null || item.Path.Length == 0 || again ? null : Task.Run(() => thumbnails.PrepareAsync(item.Path, cancellationToken));
            pending.Enqueue((item, thumbnail));
            while (pending.Count > lookAhead || (pending.Count > 0 && (pending.Peek().Thumbnail?.IsCompleted ?? true)))
            {
                WriteNext(problems);
            }

            return problems;
        }

        private void WriteNext(List<string> problems)
        {
            (ReviewItem item, Task<PreparedImage>? thumbnail) = pending.Dequeue();
            PreparedImage? image = null;
            if (thumbnail is not null)
            {
                try
                {
                    image = thumbnail.GetAwaiter().GetResult();

                    // A clip's preview is a strip of its frames.
                    image = image.Frames.Count > 0 ? ClipStrip.Of(image) : image;
                }
                catch (CaptionException e)
                {
                    problems.Add($"No preview of '{item.Path}': {e.Message}");
                }
            }

            WriteRow(item, image?.DataUriJson, image?.Width ?? 0, image?.Height ?? 0);
        }

        private void WriteRow(ReviewItem item, byte[]? thumbnail, int thumbnailWidth, int thumbnailHeight)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer, JsonOptions))
            {
                json.WriteStartObject();
                json.WriteString("file", Shown(item.Path));
                json.WriteString("href", Link(item.Path));
                json.WriteString("caption", item.Caption);
                json.WriteString("status", item.Status);
                json.WriteString("model", item.Model ?? "");
                WriteNumber(json, "tokens", item.Tokens);
                WriteNumber(json, "seconds", item.Seconds);
                json.WriteNumber("width", item.Width);
                json.WriteNumber("height", item.Height);
                json.WriteString("message", item.Message ?? "");
                if (thumbnail is not null)
                {
                    json.WriteNumber("thumbWidth", thumbnailWidth);
                    json.WriteNumber("thumbHeight", thumbnailHeight);
                }

                json.WriteEndObject();
            }

            if (thumbnail is not null)
            {
                // The data URI goes in as it is (base64 and a media type need no escaping): the closing brace is
                // taken off, the thumbnail added, and the brace put back.
                buffer.SetLength(buffer.Length - 1);
                byte[] name = Encoding.ASCII.GetBytes(",\"thumb\":");
                buffer.Write(name, 0, name.Length);
                buffer.Write(thumbnail, 0, thumbnail.Length);
                buffer.WriteByte((byte)'}');
            }

            byte[] bytes = buffer.ToArray();
            if (count > 0)
            {
                stream.WriteByte((byte)',');
            }

            stream.WriteByte((byte)'\n');
            stream.Write(bytes, 0, bytes.Length);
            count++;
        }

        /// <summary>Writes the rows still waiting for thumbnails, finishes the page and renames it over <c>path</c>; returns the thumbnails' problems.</summary>
        public IReadOnlyList<string> Commit(bool overwrite)
        {
            var problems = new List<string>();
            while (pending.Count > 0)
            {
                WriteNext(problems);
            }

            Write("\n]</script>\n<script>" + Script + "</script>\n</body>\n</html>\n");
            stream.Flush(flushToDisk: true);
            stream.Dispose();
            CaptionFile.Commit(temporary, path, overwrite);
            committed = true;
            return problems;
        }

        /// <inheritdoc />
        public void Dispose()
        {
            stream.Dispose();
            if (!committed)
            {
                try
                {
                    File.Delete(temporary);
                }
                catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
                {
                    // Marked as ours; a later clean-up removes it.
                }
            }
        }

        private static string Head(string title)
        {
            string encoded = WebUtility.HtmlEncode(title);
            return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                + $"<meta http-equiv=\"Content-Security-Policy\" content=\"{ContentSecurityPolicy}\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + "<meta name=\"generator\" content=\"VlmCaption Export-VlmReviewPage\">\n"
                + $"<title>{encoded}</title>\n<style>{Style}</style>\n</head>\n"
                + "<body>\n"
                + $"<header><h1>{encoded}</h1>"
                + "<label>Status <select id=\"status\"></select></label>"
                + "<label>Search <input id=\"search\" type=\"search\" placeholder=\"caption, file or model\" autocomplete=\"off\"></label>"
                + "<label hidden><input id=\"compare\" type=\"checkbox\"> Models side by side</label>"
                + "<span id=\"count\"></span><span id=\"totals\"></span></header>\n"
                + "<main><table><thead><tr><th data-sort=\"file\" colspan=\"2\">Image</th><th data-sort=\"length\">Caption</th>"
                + "<th data-sort=\"status\">Status</th><th data-sort=\"model\">Model</th><th data-sort=\"tokens\">Tokens</th><th data-sort=\"seconds\">Seconds</th></tr></thead>\n"
                + "<tbody id=\"rows\"></tbody></table><div id=\"more\"></div></main>\n"
                + "<noscript><p>The list needs JavaScript.</p></noscript>\n"
                + "<script id=\"vlm-data\" type=\"application/json\">[";
        }

        /// <summary>The image's name below the root, with forward slashes; its full path when it is elsewhere.</summary>
        private string Shown(string image) => (RelativePath.Under(root, image) ?? image).Replace('\\', '/');

        /// <summary>A link from the page's folder to the image: relative with each name escaped, or a file: URI.</summary>
        private string Link(string image)
        {
            string? relative = RelativePath.Under(folder, image);
            if (relative is null)
            {
                return new Uri(System.IO.Path.GetFullPath(image)).AbsoluteUri;
            }

            string[] names = relative.Split(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar);
            return string.Join("/", Array.ConvertAll(names, Uri.EscapeDataString));
        }

        private static void WriteNumber(Utf8JsonWriter json, string name, double? value)
        {
            if (value is double number && !double.IsNaN(number) && !double.IsInfinity(number))
            {
                json.WriteNumber(name, number);
            }
            else
            {
                json.WriteNull(name);
            }
        }

        private void Write(string text)
        {
            byte[] bytes = new UTF8Encoding(false).GetBytes(text);
            stream.Write(bytes, 0, bytes.Length);
        }

        private static string Hash(string text)
        {
            using var sha = SHA256.Create();
            return "sha256-" + Convert.ToBase64String(sha.ComputeHash(new UTF8Encoding(false).GetBytes(text)));
        }

        private static string Resource(string name)
        {
            using Stream resource = typeof(ReviewPage).Assembly.GetManifestResourceStream("VlmCaption.Review." + name)
                ?? throw new InvalidOperationException($"The review page's {name} is missing from the assembly.");
            using var reader = new StreamReader(resource, Encoding.UTF8);
            return reader.ReadToEnd().Replace("\r\n", "\n");
        }
    }
}
