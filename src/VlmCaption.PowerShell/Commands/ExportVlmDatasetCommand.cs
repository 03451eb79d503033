using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using VlmCaption.Output;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>
    /// Writes captions as one dataset file in a format a trainer reads: Hugging Face imagefolder (metadata.jsonl or
    /// metadata.csv), kohya's fine-tuning metadata JSON, musubi-tuner's JSONL, or a CSV with the image sizes. Takes
    /// results and Import-VlmCaption objects (anything with the image's path and a Caption) by property name.
    /// </summary>
    [Cmdlet(VerbsData.Export, "VlmDataset", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportVlmDatasetCommand : PSCmdlet
    {
        private readonly List<DatasetEntry> entries = new List<DatasetEntry>();

        /// <summary>The image, bound from PSPath, Path or FullName.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "Path", "FullName")]
        [ValidateNotNullOrEmpty]
        public string LiteralPath { get; set; } = "";

        /// <summary>The caption, bound by property name.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        public string Caption { get; set; } = "";

        /// <summary>Succeeded or Truncated; truncated captions are left out unless -IncludeTruncated.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? Status { get; set; }

        /// <summary>The format to write.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateSet("ImageFolder", "ImageFolderCsv", "Kohya", "Musubi", "Csv")]
        public string Format { get; set; } = "ImageFolder";

        /// <summary>The dataset's root folder: image paths in the file are relative to it. Default: the current folder.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Root { get; set; }

        /// <summary>The file to write; by default the format's usual name in the root (metadata.jsonl, metadata.csv, meta_cap.json, captions.csv).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

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

            if (Caption.Trim().Length == 0)
            {
                WriteWarning($"'{image}' has an empty caption and is left out of the dataset.");
                return;
            }

            entries.Add(new DatasetEntry { Path = image, Caption = Caption });
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            string root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root ?? ".");
            string target = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination ?? System.IO.Path.Combine(root, DatasetExport.DefaultFileName(Format)));
            if (Images.ImageExtensions.IsImage(target))
            {
                ThrowTerminatingError(new ErrorRecord(new IOException($"'{target}' is an image; a dataset file is never written over one."), "CaptionOverImage", ErrorCategory.InvalidArgument, target));
            }

            if (entries.Count == 0)
            {
                WriteWarning("No captions came through the pipeline; no dataset file was written.");
                return;
            }

            if (!ShouldProcess(target, $"Write a {Format} dataset file of {entries.Count} images"))
            {
                return;
            }

            try
            {
                CaptionFile.WriteAtomic(target, DatasetExport.Write(Format, root, entries), overwrite: Force);
            }
            catch (ArgumentException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, "ImageOutsideRoot", ErrorCategory.InvalidArgument, root));
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, target));
            }

            FileItems.Write(this, target);
        }
    }
}
