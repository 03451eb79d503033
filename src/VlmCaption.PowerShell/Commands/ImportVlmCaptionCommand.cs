using System;
using System.IO;
using System.Management.Automation;
using VlmCaption.Images;
using VlmCaption.Output;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>
    /// Reads the captions already beside images as CaptionResult objects, which Save-VlmCaption takes back: edit
    /// them in the pipeline or in a CSV and save them again.
    /// </summary>
    [Cmdlet(VerbsData.Import, "VlmCaption", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(CaptionResult))]
    public sealed class ImportVlmCaptionCommand : PSCmdlet
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        /// <summary>Images or folders of images; wildcards allowed.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = Array.Empty<string>();

        /// <summary>Images or folders taken exactly as written; Get-ChildItem output and results bind here.</summary>
        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
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

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            bool literal = ParameterSetName == LiteralPathSet;
            foreach ((string image, bool named) in PathResolver.Expand(this, literal ? LiteralPath : Path, literal, Recurse, Include, Exclude))
            {
                Read(image, named);
            }
        }

        private void Read(string image, bool named)
        {
            if (!ImageExtensions.IsImage(image))
            {
                if (named && !MyInvocation.ExpectingInput)
                {
                    WriteWarning($"Skipping '{image}': its extension is not one of an image.");
                }

                return;
            }

            if (Format == "jsonl")
            {
                string jsonl = JsonlCaptionFile.PathFor(image);
                foreach (JsonlCaptionFile.Entry entry in JsonlCaptionFile.Entries(image))
                {
                    WriteObject(new CaptionResult { Path = image, Caption = entry.Text, Model = entry.Model, CaptionFile = jsonl });
                }

                return;
            }

            string file = CaptionFile.PathFor(image, Extension);
            try
            {
                if (CaptionFile.Read(file) is string caption)
                {
                    WriteObject(new CaptionResult { Path = image, Caption = caption, CaptionFile = file });
                }
                else
                {
                    WriteVerbose($"'{image}' has no caption file ({System.IO.Path.GetFileName(file)}).");
                }
            }
            catch (CaptionException e)
            {
                WriteError(ErrorRecords.From(e, image));
            }
        }
    }
}
