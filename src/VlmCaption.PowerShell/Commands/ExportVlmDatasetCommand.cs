using VlmCaption.Output.Datasets;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>
    /// Writes captions in the files a trainer reads, as its own loader reads them: Hugging Face imagefolder
    /// (metadata.jsonl or metadata.csv), kohya sd-scripts' fine-tuning metadata and dataset config, musubi-tuner's
    /// image JSONL and dataset config, diffusion-pipe's captions.json, or a CSV with the image sizes. Takes results
    /// and Import-VlmCaption objects (anything with the image's path and a Caption) by property name.
    /// </summary>
    [Cmdlet(VerbsData.Export, "VlmDataset", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportVlmDatasetCommand : CaptionRecordCommandBase
    {
        private readonly List<DatasetEntry> entries = new List<DatasetEntry>();

        /// <summary>The format to write.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateSet("ImageFolder", "ImageFolderCsv", "Kohya", "KohyaToml", "Musubi", "MusubiToml", "DiffusionPipe", "Csv")]
        public string Format { get; set; } = "ImageFolder";

        /// <summary>The dataset's root folder: relative paths in the file are relative to it (kohya's train_data_dir). Default: the current folder.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Root { get; set; }

        /// <summary>The file to write; by default the format's own name in the root. DiffusionPipe writes captions.json in each image folder and takes none.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        /// <summary>Relative (to -Root) or Absolute image paths; by default absolute for Musubi, KohyaToml and MusubiToml, relative for the others. ImageFolder takes only relative paths.</summary>
        [Parameter]
        [ValidateSet("Relative", "Absolute")]
        public string? PathStyle { get; set; }

        /// <summary>The caption files' extension that KohyaToml and MusubiToml name as caption_extension.</summary>
        [Parameter]
        [CaptionExtensionTransformation]
        public string Extension { get; set; } = CaptionExtension.Default;

        /// <summary>The training resolution KohyaToml and MusubiToml set.</summary>
        [Parameter]
        [ValidateRange(64, 8192)]
        public int Resolution { get; set; } = 1024;

        /// <summary>How often KohyaToml and MusubiToml repeat each image in an epoch (num_repeats).</summary>
        [Parameter]
        [ValidateRange(1, 10000)]
        public int NumRepeats { get; set; } = 1;

        /// <summary>Write truncated captions too.</summary>
        [Parameter]
        public SwitchParameter IncludeTruncated { get; set; }

        /// <summary>Replace an existing dataset file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string image = SessionState.Path.GetUnresolvedProviderPathFromPSPath(LiteralPath);
            if (string.Equals(Status, CaptionStatus.Truncated, StringComparison.OrdinalIgnoreCase) && !IncludeTruncated)
            {
                WriteWarning($"'{image}' has a truncated caption and is left out of the dataset (-IncludeTruncated takes it).");
                return;
            }

            if (string.Equals(Status, CaptionStatus.Refused, StringComparison.OrdinalIgnoreCase))
            {
                // A refusal trains a model to refuse: never a caption in a dataset.
                WriteWarning($"'{image}' has a refusal, not a caption (Status Refused), and is left out of the dataset. Caption it with another model first.");
                return;
            }

            if (Caption.Trim().Length == 0)
            {
                WriteWarning($"'{image}' has an empty caption and is left out of the dataset.");
                return;
            }

            entries.Add(new DatasetEntry { Path = image, Caption = Caption, Tags = Structured.StructuredCaption.Tags(StructuredData.Json(Data, DataJson)) });
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            if (Format == "DiffusionPipe" && Destination is not null)
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("diffusion-pipe reads captions.json from each image folder; -Destination does not apply to DiffusionPipe."), "DestinationNotApplicable", ErrorCategory.InvalidArgument, Destination));
            }

            if (PathStyle == "Absolute" && Format is "ImageFolder" or "ImageFolderCsv")
            {
                ThrowTerminatingError(new ErrorRecord(new ArgumentException("Hugging Face's imagefolder refuses absolute file_name paths; they are relative to the metadata file's folder."), "AbsolutePathsRefused", ErrorCategory.InvalidArgument, Format));
            }

            if (entries.Count == 0)
            {
                WriteWarning("No captions came through the pipeline; no dataset file was written.");
                return;
            }

            var options = new DatasetOptions
            {
                Root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root ?? "."),
                Destination = Destination is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination),
                Absolute = PathStyle is null ? null : PathStyle == "Absolute",
                CaptionExtension = Extension,
                Resolution = Resolution,
                NumRepeats = NumRepeats,
            };
            DatasetPlan plan = DatasetExport.Plan(Format, entries, options);
            foreach (KeyValuePair<string, CaptionException> failure in plan.Failures)
            {
                WriteError(ErrorRecords.From(failure.Value, failure.Key));
            }

            foreach (string warning in plan.Warnings)
            {
                WriteWarning(warning);
            }

            foreach (DatasetFile file in plan.Files)
            {
                if (Images.ImageExtensions.IsImage(file.Path))
                {
                    WriteError(new ErrorRecord(new IOException($"'{file.Path}' is an image; a dataset file is never written over one."), "CaptionOverImage", ErrorCategory.InvalidArgument, file.Path));
                    continue;
                }

                if (!ShouldProcess(file.Path, $"Write a {Format} dataset file"))
                {
                    continue;
                }

                try
                {
                    CaptionFile.WriteAtomic(file.Path, file.Text, overwrite: Force);
                }
                catch (CaptionException e)
                {
                    WriteError(ErrorRecords.From(e, file.Path));
                    continue;
                }

                FileItems.Write(this, file.Path);
            }
        }
    }
}
