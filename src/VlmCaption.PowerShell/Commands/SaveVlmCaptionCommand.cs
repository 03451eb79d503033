namespace VlmCaption.PowerShell.Commands
{
    /// <summary>
    /// Writes each caption to a file beside its image (or in an output folder), atomically. It binds by property name (the image as PSPath
    /// or Path, Caption, Status, Model, Config), so results from Get-VlmCaption, from Import-Csv or Import-Clixml,
    /// or any object with those properties can be saved.
    /// </summary>
    [Cmdlet(VerbsData.Save, "VlmCaption", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class SaveVlmCaptionCommand : CaptionRecordCommandBase
    {
        private readonly LeftoverCleaner leftovers = new LeftoverCleaner();

        // Caption files written by this invocation for images that have a same-stem sibling (a.jpg beside
        // a.png): only those can collide, so the dictionary stays small however many captions are saved.
        private readonly CaptionOwners written = new CaptionOwners();

        private readonly HashSet<string> warnedConfigs = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>The model, for jsonl lines.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? Model { get; set; }

        /// <summary>A caption.yaml path or object whose prefix, suffix, caption_extension and output_format apply; results made with -Config carry theirs.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ConfigTransformation]
        public CaptionConfig? Config { get; set; }

        /// <summary>Extension of the caption file; "txt" and ".txt" both work.</summary>
        [Parameter]
        [CaptionExtensionTransformation]
        public string Extension { get; set; } = CaptionExtension.Default;

        /// <summary>Text put before every caption, e.g. a trigger word.</summary>
        [Parameter]
        public string Prefix { get; set; } = "";

        // Each prefix or suffix problem is said once a pipeline.
        private readonly System.Collections.Generic.HashSet<string> affixWarned = new System.Collections.Generic.HashSet<string>();

        /// <summary>Text put after every caption.</summary>
        [Parameter]
        public string Suffix { get; set; } = "";

        /// <summary>Overwrite existing caption files and write truncated captions.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>What becomes of a caption file that exists: Skip (an error, the default without -Force), Overwrite, Append or Prepend the new caption on a line of its own.</summary>
        [Parameter]
        [ValidateSet("Skip", "Overwrite", "Append", "Prepend")]
        public string? Existing { get; set; }

        /// <summary>Which of the image's captions this is (results of Get-VlmCaption -Count carry it).</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateRange(1, CaptionSettings.MaxCaptionsPerImage)]
        public int CaptionIndex { get; set; } = 1;

        /// <summary>How many captions the image has; several are gathered and written together, one per line.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateRange(1, CaptionSettings.MaxCaptionsPerImage)]
        public int CaptionCount { get; set; } = 1;

        /// <summary>
        /// The caption file the caption was read from (Import-VlmCaption's CaptionFile): written back there when no
        /// -Extension, -Destination or -Config says otherwise, if it is named for the image (image stem and a caption extension).
        /// </summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("CaptionFile")]
        [AllowNull]
        [AllowEmptyString]
        public string? CaptionPath { get; set; }

        /// <summary>Write into this folder instead of beside the images, mirroring the folders under -BaseDirectory (output_directory).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>The folder whose tree -Destination mirrors: the configuration's base_directory, else the current location.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? BaseDirectory { get; set; }

        /// <summary>Overrides keep_line_breaks: an image's one caption keeps its line breaks instead of being written on one line.</summary>
        [Parameter]
        public SwitchParameter KeepLineBreaks { get; set; }

        /// <summary>
        /// Each model's captions to a file of its own (photo.&lt;model&gt;.txt), as Invoke-VlmCaptionRun keeps them when it
        /// compares models; without it, results of several models for one image are refused (pick one with Select-VlmCaption).
        /// </summary>
        [Parameter]
        public SwitchParameter PerModel { get; set; }

        // The image and model of the last record: results of several models arrive together, one image at a time.
        private (string Image, string Model) last = ("", "");

        /// <summary>Emit the FileInfo of each written file.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <summary>An image's several captions, gathered until the last arrives.</summary>
        private readonly Dictionary<string, Pending> gathering = new Dictionary<string, Pending>(StringComparer.Ordinal);

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string image;
            CaptionConfig? config;
            CaptionPlacement placement;
            try
            {
                image = ConfigLoader.ResolveFile(this, LiteralPath);
                config = ConfigOf(Config);
                placement = ConfigLoader.Placement(this, Destination, BaseDirectory, config);
                placement.Mirror(image);
            }
            catch (CaptionException e)
            {
                WriteError(ErrorRecords.From(e, LiteralPath));
                return;
            }

            if (string.Equals(Status, CaptionStatus.Refused, StringComparison.OrdinalIgnoreCase) && !Force)
            {
                WriteError(new ErrorRecord(
                    new InvalidDataException($"The model refused to caption '{image}' (\"{Caption}\"), so it was not written. Caption it with another model, or use -Force to write it anyway."),
                    "CaptionRefused",
                    ErrorCategory.InvalidData,
                    image));
                return;
            }

            if (string.Equals(Status, CaptionStatus.Truncated, StringComparison.OrdinalIgnoreCase) && !Force)
            {
                WriteError(new ErrorRecord(
                    new InvalidDataException($"The caption of '{image}' was cut off by the answer limit and was not written. Raise -MaxTokens and caption it again, or use -Force to write it anyway."),
                    "CaptionTruncated",
                    ErrorCategory.InvalidData,
                    image));
                return;
            }

            string model = Model ?? "";
            if (PerModel && model.Length == 0)
            {
                WriteError(new ErrorRecord(new InvalidDataException($"The caption of '{image}' names no model, so -PerModel has no file to put it in. Give results that carry their Model, or -Model."), "CaptionModelMissing", ErrorCategory.InvalidData, image));
                return;
            }

            // Only one caption file is at stake: jsonl lines name their model, and a set of lines (CaptionCount) is meant as one file.
            bool oneFile = CaptionCount == 1 && (Bound(nameof(Extension)) || config?.OutputFormat != "jsonl");
            if (!PerModel && oneFile && last.Image == image && !string.Equals(last.Model, model, StringComparison.Ordinal) && model.Length > 0 && last.Model.Length > 0)
            {
                WriteError(new ErrorRecord(new InvalidDataException($"'{image}' has captions by '{last.Model}' and by '{model}': one caption file cannot take both. Use -PerModel to keep each model's in a file of its own, or pick one with Select-VlmCaption first."), "CaptionModelsMixed", ErrorCategory.InvalidData, image));
                return;
            }

            last = (image, model);

            // The parameters typed win over the record's caption.yaml, as everywhere; without one, over the defaults.
            CaptionConfig settings = SettingsFor(config);
            string prefix = settings.Prefix;
            string suffix = settings.Suffix;
            if (CaptionAffix.Problem(prefix, suffix) is string problem && affixWarned.Add(problem))
            {
                WriteWarning(problem + " Written as given.");
            }

            string text = prefix + Caption + suffix;
            string? readFrom = config is null && Destination is null && !Bound(nameof(Extension)) && !PerModel ? ReadFrom(image) : null;
            string? perModel = PerModel ? model : null;
            string? data = StructuredData.Json(Data, DataJson);
            if (CaptionCount == 1)
            {
                var one = new Pending(image, config, settings, placement, text) { ReadFrom = readFrom, Model = perModel };
                one.Data[1] = data;
                Write(one);
                return;
            }

            // Several captions of one image become one file (a line each) or one write of jsonl lines.
            string key = perModel is null ? image : image + "\0" + perModel;
            if (!gathering.TryGetValue(key, out Pending? pending))
            {
                gathering[key] = pending = new Pending(image, config, settings, placement, null) { ReadFrom = readFrom, Model = perModel };
            }

            pending.Texts[CaptionIndex] = text;
            pending.Data[CaptionIndex] = data;
            if (pending.Texts.Count >= CaptionCount)
            {
                gathering.Remove(key);
                Write(pending);
            }
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            // Captions left out upstream (a Where-Object) leave a set short; what did arrive is still written.
            foreach (Pending pending in gathering.Values)
            {
                WriteVerbose($"'{pending.Image}': writing the {pending.Texts.Count} of its captions that arrived.");
                Write(pending);
            }

            gathering.Clear();
        }

        private void Write(Pending pending)
        {
            string image = pending.Image;
            CaptionConfig? config = pending.Config;
            string extension = pending.Settings.CaptionExtension;
            bool jsonl = !Bound(nameof(Extension)) && config?.OutputFormat == "jsonl";
            var writer = new CaptionWriter(pending.Placement, extension, jsonl, pending.Settings.KeepLineBreaks) { Leftovers = leftovers, Removed = WriteVerbose, Problem = WriteWarning };
            string target = jsonl ? writer.Target(image)
                : pending.Model is string model ? pending.Placement.CaptionPath(image, ModelList.Extension(model, extension))
                : pending.ReadFrom ?? writer.Target(image);
            var texts = new List<string>(pending.Texts.Values);
            var objects = pending.Texts.Keys.Select(index => pending.Data.TryGetValue(index, out string? json) ? json : null).ToList();

            if (ImageExtensions.IsImage(target))
            {
                WriteError(new ErrorRecord(new IOException($"'{target}' is an image; a caption is never written over one."), "CaptionOverImage", ErrorCategory.InvalidArgument, image));
                return;
            }

            if (!jsonl && written.Owns(target) && written.Claim(image, target) is CaptionException conflict)
            {
                WriteError(ErrorRecords.From(conflict, image));
                return;
            }

            if (!ShouldProcess(target, (jsonl ? "Append caption" : "Write caption") + (texts.Count > 1 ? $"s ({texts.Count}, one per line)" : "")))
            {
                return;
            }

            try
            {
                if (jsonl)
                {
                    writer.Write(image, texts, null, Force, pending.Model ?? Model ?? config!.Model, JsonlCaptionFile.PromptField(config!.Prompts), data: objects);
                }
                else
                {
                    var siblings = new List<string>(ImageExtensions.SameStemSiblings(image));
                    foreach (string sibling in siblings)
                    {
                        WriteWarning($"'{sibling}' has the same name as '{image}', so both would use the caption file '{target}'.");
                    }

                    string? mode = Existing?.ToLowerInvariant() ?? (Bound(nameof(Force)) || config is null ? null : config.Existing);
                    writer.Write(image, texts, mode, Force, "", "", target, objects);
                    if (siblings.Count > 0)
                    {
                        written.Claim(image, target);
                    }
                }
            }
            catch (CaptionException e)
            {
                WriteError(ErrorRecords.From(e, image));
                return;
            }

            if (PassThru)
            {
                FileItems.Write(this, target);
            }
        }

        /// <summary>
        /// The caption file the object came from, when it is one this image could have: its stem and a caption
        /// extension (never an image, a sidecar or a jsonl file), so a crafted CSV cannot aim a write elsewhere.
        /// </summary>
        private string? ReadFrom(string image)
        {
            if (string.IsNullOrEmpty(CaptionPath))
            {
                return null;
            }

            try
            {
                string file = ConfigLoader.ResolveFile(this, CaptionPath!);
                string name = System.IO.Path.GetFileName(file);
                string stem = System.IO.Path.GetFileNameWithoutExtension(image);
                if (name.StartsWith(stem + ".", StringComparison.Ordinal) && name.Length > stem.Length + 1)
                {
                    CaptionExtension.Normalize(name.Substring(stem.Length));
                    return file;
                }
            }
            catch (Exception e) when (e is ArgumentException || e is CaptionException)
            {
                // Not a caption file of this image: the caption goes where it would without one.
            }

            WriteVerbose($"'{CaptionPath}' is not a caption file of '{image}'; writing where its caption goes by default.");
            return null;
        }

        /// <summary>One image's captions to write, in the order of their index.</summary>
        private sealed class Pending
        {
            public Pending(string image, CaptionConfig? config, CaptionConfig settings, CaptionPlacement placement, string? text)
            {
                Image = image;
                Config = config;
                Settings = settings;
                Placement = placement;
                if (text is not null)
                {
                    Texts[1] = text;
                }
            }

            public string Image { get; }

            public CaptionConfig? Config { get; }

            /// <summary>The record's configuration (or the defaults) with the parameters typed laid over it.</summary>
            public CaptionConfig Settings { get; }

            public CaptionPlacement Placement { get; }

            /// <summary>The caption file the caption came from, to write back to.</summary>
            public string? ReadFrom { get; set; }

            /// <summary>With -PerModel, the model whose file this is.</summary>
            public string? Model { get; set; }

            /// <summary>The structured captions' objects, as JSON, by caption index.</summary>
            public Dictionary<int, string?> Data { get; } = new Dictionary<int, string?>();

            public SortedDictionary<int, string> Texts { get; } = new SortedDictionary<int, string>();
        }

        private bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

        /// <summary>
        /// The record's configuration with the typed parameters laid over it, made once a configuration: the
        /// parameters that overlay are not bound from the pipeline, so they are the same for every record.
        /// </summary>
        private CaptionConfig SettingsFor(CaptionConfig? config)
        {
            if (!ReferenceEquals(config, settingsOf) || settings is null)
            {
                settingsOf = config;
                settings = ConfigOverlay.Apply(this, config ?? new CaptionConfig());
            }

            return settings;
        }

        private CaptionConfig? settingsOf;
        private CaptionConfig? settings;

        /// <summary>The record's configuration, its reader's warnings written once a pipeline (every row of a CSV names it again).</summary>
        private CaptionConfig? ConfigOf(CaptionConfig? config)
        {
            if (config is not null && warnedConfigs.Add(config.Path ?? ""))
            {
                ConfigTransformationAttribute.WriteWarnings(this, config);
            }

            return config;
        }
    }
}
