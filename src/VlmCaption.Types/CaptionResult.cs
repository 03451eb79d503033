namespace VlmCaption
{
    /// <summary>
    /// The caption of one image and how it was obtained. Holds no key and no image data. Every column the default
    /// view shows is a property (Image, Status, Seconds, Tokens, Caption), and PSPath binds the result back to
    /// -LiteralPath, so failed or truncated results pipe straight into Get-VlmCaption again.
    /// </summary>
    public sealed class CaptionResult
    {
        /// <summary>Full path of the image.</summary>
        public string Path { get; set; } = "";

        /// <summary>The image as a provider path, which binds to -LiteralPath of Get-VlmCaption and Save-VlmCaption.</summary>
        public string PSPath => ProviderPath.Of(Path);

        /// <summary>The image's file name.</summary>
        public string Image => System.IO.Path.GetFileName(Path);

        /// <summary>The final answer of the conversation.</summary>
        public string Caption { get; set; } = "";

        /// <summary>Succeeded, or Truncated when the final answer hit the answer limit (see <see cref="CaptionStatus"/>).</summary>
        public string Status { get; set; } = CaptionStatus.Succeeded;

        /// <summary>Model name sent with the requests.</summary>
        public string Model { get; set; } = "";

        /// <summary>The endpoint that served the image.</summary>
        public string BaseUrl { get; set; } = "";

        /// <summary>Every turn of the conversation, in order.</summary>
        public CaptionTurnList Turns { get; set; } = CaptionTurnList.Empty;

        /// <summary>Sum of the prompt tokens the server reported, or null when it reported none.</summary>
        public int? PromptTokens { get; set; }

        /// <summary>Sum of the completion tokens the server reported, or null when it reported none.</summary>
        public int? CompletionTokens { get; set; }

        /// <summary>The answers' tokens (CompletionTokens), the table's Tokens column.</summary>
        public int? Tokens => CompletionTokens;

        /// <summary>Wall time in seconds for the whole image: preparation and every turn.</summary>
        public double Seconds { get; set; }

        /// <summary>Width in pixels of the original image, upright (0 when not known, as for captions read back).</summary>
        public int Width { get; set; }

        /// <summary>Height in pixels of the original image, upright.</summary>
        public int Height { get; set; }

        /// <summary>Width in pixels of the image as sent (0 when sent untouched and not identified).</summary>
        public int SentWidth { get; set; }

        /// <summary>Height in pixels of the image as sent.</summary>
        public int SentHeight { get; set; }

        /// <summary>Size in bytes of the encoded image as sent (before base64).</summary>
        public long SentBytes { get; set; }

        /// <summary>Media type of the image as sent, e.g. image/jpeg.</summary>
        public string SentMediaType { get; set; } = "";

        /// <summary>For a video clip: the seconds of the clip its frames were taken at, in the order sent; empty for an image.</summary>
        public double[] SentFrameSeconds { get; set; } = System.Array.Empty<double>();

        /// <summary>For a video clip: its length in seconds; null for an image.</summary>
        public double? ClipSeconds { get; set; }

        /// <summary>Which of the image's captions this is, from 1 (captions_per_image, -Count).</summary>
        public int CaptionIndex { get; set; } = 1;

        /// <summary>How many captions the image was given in all; Save-VlmCaption writes them together, one per line.</summary>
        public int CaptionCount { get; set; } = 1;

        /// <summary>Turns before the caption's that the answer limit cut off (finish_reason length): the caption builds on half an answer.</summary>
        public int CutOffTurns { get; set; }

        /// <summary>
        /// A structured caption (json_schema, -JsonSchema): the object the model answered, checked against the schema,
        /// as compact JSON; Caption is rendered from it. Null for a plain caption.
        /// </summary>
        public string? DataJson { get; set; }

        /// <summary>The structured caption as an object (in PowerShell a PSCustomObject, so $_.Data.subject works); null for a plain caption.</summary>
        public object? Data { get; set; }

        /// <summary>The caption file the caption was read from (Import-VlmCaption); null for a caption just made.</summary>
        public string? CaptionFile { get; set; }

        /// <summary>
        /// The caption.yaml the result was made with, if any. It binds by name to Save-VlmCaption's -Config, so the
        /// file's prefix, suffix, caption_extension and output_format apply when the result is saved.
        /// </summary>
        public CaptionConfig? Config { get; set; }

        /// <inheritdoc />
        public override string ToString() => Caption;
    }
}
