using System.Globalization;
using System.Threading;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>
    /// Writes one self-contained HTML page to look through captions: each image as a small thumbnail beside its
    /// caption, status, model, tokens and time, with a status filter, text search and sorting. Takes results,
    /// Import-VlmCaption objects, a RunSummary's Failures or CSV rows by property name.
    /// </summary>
    [Cmdlet(VerbsData.Export, "VlmReviewPage", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportVlmReviewPageCommand : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource cancellation = new CancellationTokenSource();
        private ReviewPage? page;
        private string target = "";
        private bool skip;

        /// <summary>The page to write.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Destination { get; set; } = "review.html";

        /// <summary>The image, bound from PSPath, Path or FullName.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "Path", "FullName")]
        [ValidateNotNullOrEmpty]
        public string LiteralPath { get; set; } = "";

        /// <summary>The caption; none for a failure.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        [AllowEmptyString]
        public string? Caption { get; set; }

        /// <summary>Succeeded, Truncated or Failed; by default Succeeded, or Failed for an object with a Message and no caption.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        [AllowEmptyString]
        public string? Status { get; set; }

        /// <summary>The model that wrote the caption.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        [AllowEmptyString]
        public string? Model { get; set; }

        /// <summary>The answer's tokens (a number; text from a CSV is read as one).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        public object? Tokens { get; set; }

        /// <summary>Seconds the image took.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        public object? Seconds { get; set; }

        /// <summary>The original image's width in pixels.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        public object? Width { get; set; }

        /// <summary>The original image's height in pixels.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        public object? Height { get; set; }

        /// <summary>Why the image failed (a RunSummary's Failures carry it).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [AllowNull]
        [AllowEmptyString]
        public string? Message { get; set; }

        /// <summary>The page's title.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Title { get; set; } = "Caption review";

        /// <summary>The longest side of a thumbnail, in pixels (32 to 512); 0 leaves thumbnails out.</summary>
        [Parameter]
        [ValidateRange(0, 512)]
        public int ThumbnailSize { get; set; } = 128;

        /// <summary>Images are named relative to this folder (the dataset's root); by default the page's folder.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Root { get; set; }

        /// <summary>Replace an existing page.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Emit the page's FileInfo.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            if (ThumbnailSize is > 0 and < 32)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"A thumbnail of {ThumbnailSize} pixels shows nothing; use 32 to 512, or 0 for none."), "InvalidThumbnailSize", ErrorCategory.InvalidArgument, ThumbnailSize));
            }

            target = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination);
            // Only .html and .htm, so a slip of the argument can never overwrite an image, a caption or a dataset file.
            string extension = System.IO.Path.GetExtension(target);
            if (!extension.Equals(".html", StringComparison.OrdinalIgnoreCase) && !extension.Equals(".htm", StringComparison.OrdinalIgnoreCase))
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"'{target}' does not end in .html or .htm; the review page is written only to such a file."), "PageNotHtml", ErrorCategory.InvalidArgument, target));
            }

            if (File.Exists(target) && !Force)
            {
                ThrowTerminatingError(new ErrorRecord(new IOException($"'{target}' already exists. Use -Force to replace it."), "PageExists", ErrorCategory.ResourceExists, target));
            }

            if (!ShouldProcess(target, "Write review page"))
            {
                skip = true;
                return;
            }

            string root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root ?? (System.IO.Path.GetDirectoryName(target) ?? "."));
            try
            {
                page = new ReviewPage(target, root, Title, ThumbnailSize, cancellation.Token);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(e, "PageWriteFailed", ErrorCategory.WriteError, target));
            }
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (skip || page is null)
            {
                return;
            }

            string image = SessionState.Path.GetUnresolvedProviderPathFromPSPath(LiteralPath);
            bool failed = string.IsNullOrEmpty(Caption) && !string.IsNullOrEmpty(Message);
            var item = new ReviewItem
            {
                Path = image,
                Caption = Caption ?? "",
                Status = string.IsNullOrWhiteSpace(Status) ? (failed ? CaptionStatus.Failed : CaptionStatus.Succeeded) : Status!,
                Model = Model,
                Tokens = (int?)Number(Tokens),
                // A caption takes time; 0 is what results read back from caption files carry (no time known).
                Seconds = Number(Seconds) is double seconds && seconds > 0 ? seconds : null,
                Width = (int)(Number(Width) ?? 0),
                Height = (int)(Number(Height) ?? 0),
                Message = Message,
            };
            Report(Run(() => page.Add(item)));
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            if (skip || page is null)
            {
                return;
            }

            Report(Run(() => page.Commit(overwrite: Force)));
            WriteVerbose($"Wrote '{target}' with {page.Count} images.");
            if (PassThru)
            {
                FileItems.Write(this, target);
            }
        }

        /// <inheritdoc />
        protected override void StopProcessing() => cancellation.Cancel();

        /// <inheritdoc />
        public void Dispose()
        {
            page?.Dispose();
            cancellation.Dispose();
        }

        private T Run<T>(Func<T> write)
        {
            try
            {
                return write();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(e, "PageWriteFailed", ErrorCategory.WriteError, target));
                throw;
            }
        }

        private void Report(System.Collections.Generic.IReadOnlyList<string> problems)
        {
            foreach (string problem in problems)
            {
                WriteWarning(problem);
            }
        }

        /// <summary>A number from a property: a number as is, text read invariantly; null for none or not a number.</summary>
        private static double? Number(object? value)
        {
            value = value is PSObject wrapped ? wrapped.BaseObject : value;
            switch (value)
            {
                case null:
                    return null;
                case int i:
                    return i;
                case long l:
                    return l;
                case double d:
                    return d;
                case float f:
                    return f;
                case decimal m:
                    return (double)m;
                default:
                    return double.TryParse(value.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) ? parsed : null;
            }
        }
    }
}
