namespace VlmCaption.PowerShell.Commands
{
    /// <summary>
    /// Reads the captions already beside images as CaptionResult objects, which Save-VlmCaption takes back: edit
    /// them in the pipeline or in a CSV and save them again.
    /// </summary>
    [Cmdlet(VerbsData.Import, "VlmCaption", DefaultParameterSetName = ParameterSets.Path)]
    [OutputType(typeof(CaptionResult))]
    public sealed class ImportVlmCaptionCommand : PSCmdlet
    {

        /// <summary>Images or folders of images; wildcards allowed.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ParameterSets.Path, ValueFromPipeline = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Images or folders taken exactly as written; Get-ChildItem output and results bind here.</summary>
        [Parameter(Mandatory = true, ParameterSetName = ParameterSets.LiteralPath, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "LP", "FullName")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = Array.Empty<string>();

        /// <summary>Reads the images in the subfolders of folders too.</summary>
        [Parameter]
        public SwitchParameter Recurse { get; set; }

        /// <summary>Within folders, only images whose names match one of these patterns.</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Include { get; set; }

        /// <summary>Within folders, leaves out images whose names match one of these patterns.</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Exclude { get; set; }

        /// <summary>Extension of the caption files; "txt" and ".txt" both work.</summary>
        [Parameter]
        [CaptionExtensionTransformation]
        public string Extension { get; set; } = CaptionExtension.Default;

        /// <summary>txt reads the caption file; jsonl emits one object for each line of the image's .jsonl file.</summary>
        [Parameter]
        [ValidateSet("txt", "jsonl")]
        public string Format { get; set; } = "txt";

        /// <summary>One object per line of a caption file (kohya's multi-caption files, captions_per_image), with CaptionIndex and CaptionCount, which Save-VlmCaption writes back as one file.</summary>
        [Parameter]
        public SwitchParameter Split { get; set; }

        /// <summary>Read the captions from this output folder, which mirrors the folders under -BaseDirectory (a run's output_directory).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>The folder whose tree -Destination mirrors: the configuration's base_directory, else the current location.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? BaseDirectory { get; set; }

        /// <summary>A caption.yaml path or object: its caption_extension, output_format, output_directory and base_directory say where the captions are; parameters win.</summary>
        [Parameter]
        [ConfigTransformation]
        public CaptionConfig? Config { get; set; }

        /// <summary>
        /// The models whose captions to read, as a run comparing them kept them: each model's file (photo.&lt;model&gt;.txt),
        /// or the jsonl lines naming it; a result for each, with its Model. Default: the configuration's list of models, if it has one.
        /// </summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? Model { get; set; }

        private string[]? models;
        private CaptionPlacement placement = CaptionPlacement.Beside;
        private string extension = CaptionExtension.Default;
        private string format = "txt";
        private bool rootGiven;
        private int images;
        private int captions;

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            try
            {
                CaptionConfig? config = Config is null ? null : ConfigTransformationAttribute.WriteWarnings(this, Config)!;
                CaptionConfig settings = ConfigOverlay.Apply(this, config ?? new CaptionConfig());
                extension = settings.CaptionExtension;
                format = settings.OutputFormat;
                models = Model ?? (settings.Models.Length > 1 ? settings.Models : null);
                placement = ConfigLoader.Placement(this, Destination, BaseDirectory, config);
                rootGiven = BaseDirectory is not null || (config is not null && config.BaseDirectory.Length > 0);
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, Config?.ToString() ?? Destination ?? ""));
            }
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            bool literal = ParameterSetName == ParameterSets.LiteralPath;
            foreach (string input in (literal ? LiteralPath : Path) ?? Array.Empty<string>())
            {
                CaptionPlacement here = FolderRoot(input, literal) is string folder ? new CaptionPlacement(folder, placement.Destination) : placement;
                foreach ((string image, bool named) in PathResolver.Expand(this, new[] { input }, literal, Recurse, Include, Exclude))
                {
                    images++;
                    Read(image, named, here);
                }
            }
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            if (placement.Destination is not null && images > 0 && captions == 0)
            {
                WriteWarning($"None of the {images} images has a caption in '{placement.Destination}'. Its folders must mirror those under the folder the run captioned (base_directory, -BaseDirectory){(rootGiven ? $"; here that is '{placement.ImageRoot}'" : "")}.");
            }
        }

        /// <summary>
        /// With -Destination and no root named (-BaseDirectory, a configuration's base_directory), a folder given is
        /// the root its images' captions mirror, as the run over it wrote them; null otherwise.
        /// </summary>
        private string? FolderRoot(string input, bool literal)
        {
            if (placement.Destination is null || rootGiven)
            {
                return null;
            }

            try
            {
                IReadOnlyList<string> resolved = literal
                    ? new[] { SessionState.Path.GetUnresolvedProviderPathFromPSPath(input) }
                    : SessionState.Path.GetResolvedProviderPathFromPSPath(input, out _);
                return resolved.Count == 1 && Directory.Exists(resolved[0]) ? resolved[0] : null;
            }
            catch (Exception e) when (e is ItemNotFoundException || e is ProviderNotFoundException || e is System.Management.Automation.DriveNotFoundException || e is NotSupportedException)
            {
                return null;
            }
        }

        private void Read(string image, bool named, CaptionPlacement where)
        {
            if (!ImageExtensions.IsImage(image))
            {
                if (named && !MyInvocation.ExpectingInput)
                {
                    WriteWarning($"Skipping '{image}': its extension is not one of an image.");
                }

                return;
            }

            try
            {
                if (format == "jsonl")
                {
                    string mirrored = where.Mirror(image);
                    string jsonl = JsonlCaptionFile.PathFor(mirrored);
                    IEnumerable<JsonlCaptionFile.Entry> entries = JsonlCaptionFile.Entries(mirrored);
                    if (models is not null)
                    {
                        // The lines of the models asked for, in the order they were named.
                        entries = entries.Where(e => models.Contains(e.Model, StringComparer.OrdinalIgnoreCase)).OrderBy(e => Array.FindIndex(models, m => string.Equals(m, e.Model, StringComparison.OrdinalIgnoreCase))).ToList();
                    }

                    foreach (JsonlCaptionFile.Entry entry in entries)
                    {
                        captions++;
                        WriteObject(StructuredData.Attach(new CaptionResult { Path = image, Caption = entry.Text, Model = entry.Model, CaptionFile = jsonl, DataJson = entry.Data }));
                    }

                    return;
                }

                if (models is not null)
                {
                    foreach (string model in models)
                    {
                        ReadFile(image, where.CaptionPath(image, ModelList.Extension(model, extension)), model);
                    }

                    return;
                }

                string file = where.CaptionPath(image, extension);
                if (File.Exists(file) && ImageExtensions.SameStemSiblings(image).FirstOrDefault() is string sibling)
                {
                    // a.jpg and a.png both read a.txt in every trainer, and nothing says which image it describes.
                    WriteError(new ErrorRecord(
                        new IOException($"'{image}' and '{sibling}' share the caption file '{file}', so it is not known which of them it describes, and a trainer gives both that caption; no caption is returned for '{image}'. Rename one image (Rename-Item) and caption it again, so each has a caption file of its own."),
                        "CaptionPathConflict",
                        ErrorCategory.InvalidData,
                        image));
                    return;
                }

                ReadFile(image, file, null);
            }
            catch (CaptionException e)
            {
                WriteError(ErrorRecords.From(e, image));
            }
        }

        /// <summary>
        /// The structured captions kept beside a caption file (photo.caption.json): one object, or a list of them for
        /// a file of several lines; none when there is no such file or it holds something else. Read within a bound.
        /// </summary>
        private IReadOnlyList<string?> Objects(string captionFile, int lines)
        {
            string path = Structured.StructuredCaption.DataPath(captionFile);
            switch (RegularFile.Check(path, Structured.CaptionSchema.MaxLength * 4L, stayInFolder: true))
            {
                case RegularFile.Kind.Readable:
                    break;
                case RegularFile.Kind.Missing:
                    return Array.Empty<string?>();
                default:
                    // As for caption files: a link out of the folder, a FIFO or an outsized file is not read.
                    WriteWarning($"'{path}' is a link out of its folder, empty, not a regular file, or too large; the caption is read without its object.");
                    return Array.Empty<string?>();
            }

            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(RegularFile.ReadAllBytes(path, Structured.CaptionSchema.MaxLength * 4L));
                System.Text.Json.JsonElement root = document.RootElement;
                if (root.ValueKind == System.Text.Json.JsonValueKind.Object)
                {
                    return new[] { root.GetRawText() };
                }

                if (root.ValueKind == System.Text.Json.JsonValueKind.Array && lines > 1)
                {
                    return root.EnumerateArray().Select(item => item.ValueKind == System.Text.Json.JsonValueKind.Object ? item.GetRawText() : null).ToList();
                }
            }
            catch (Exception e) when (e is System.Text.Json.JsonException || e is IOException || e is UnauthorizedAccessException)
            {
                WriteWarning($"'{path}' holds no structured caption that can be read ({e.Message}); the caption is read without it.");
            }

            return Array.Empty<string?>();
        }

        /// <summary>Emits the caption (or with -Split, each line) of <paramref name="file"/>, if there is one, naming <paramref name="model"/>.</summary>
        private void ReadFile(string image, string file, string? model)
        {
            if (CaptionFile.Read(file, out bool notUtf8) is string caption)
            {
                if (notUtf8)
                {
                    WriteWarning($"'{file}' is not valid UTF-8: its caption shows U+FFFD where bytes could not be read. Save-VlmCaption leaves the file as it is unless the caption is changed.");
                }

                string[] lines = Split ? caption.Split(new[] { "\r\n", "\n" }, StringSplitOptions.None).Where(l => l.Trim().Length > 0).ToArray() : new[] { caption };
                IReadOnlyList<string?> objects = Objects(file, lines.Length);
                for (int i = 0; i < lines.Length; i++)
                {
                    captions++;
                    WriteObject(StructuredData.Attach(new CaptionResult { Path = image, Caption = lines[i], CaptionFile = file, CaptionIndex = i + 1, CaptionCount = lines.Length, Model = model ?? "", DataJson = i < objects.Count ? objects[i] : null }));
                }
            }
            else
            {
                WriteVerbose($"'{image}' has no caption file ({System.IO.Path.GetFileName(file)}).");
            }
        }
    }
}
