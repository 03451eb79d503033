using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using VlmCaption.Images;
using VlmCaption.Output;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Writes each caption to a text file beside its image, atomically.</summary>
    [Cmdlet(VerbsData.Save, "VlmCaption", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class SaveVlmCaptionCommand : PSCmdlet
    {
        // Caption files written by this invocation for images that have a same-stem sibling (a.jpg beside
        // a.png): only those can collide, so the dictionary stays small however many captions are saved.
        private readonly HashSet<string> cleanedFolders = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        private readonly Dictionary<string, string> written = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>Results from Get-VlmCaption.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        [ValidateNotNull]
        public CaptionResult InputObject { get; set; } = null!;

        /// <summary>Extension of the caption file, with its dot.</summary>
        [Parameter]
        [ValidatePattern(@"^\.[^\\/]+$")]
        public string Extension { get; set; } = ".txt";

        /// <summary>Text put before every caption, e.g. a trigger word.</summary>
        [Parameter]
        public string Prefix { get; set; } = "";

        /// <summary>Text put after every caption.</summary>
        [Parameter]
        public string Suffix { get; set; } = "";

        /// <summary>Overwrite existing caption files and write truncated captions.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Emit the FileInfo of each written file.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            CaptionResult result = InputObject;
            string target = CaptionFile.PathFor(result.Path, Extension);
            if (written.TryGetValue(target, out string? first))
            {
                WriteError(new ErrorRecord(
                    new IOException($"'{result.Path}' and '{first}' both caption to '{target}'; the caption of '{result.Path}' was not written. Rename one image or use -Extension."),
                    "CaptionPathConflict",
                    ErrorCategory.ResourceExists,
                    result.Path));
                return;
            }

            if (result.Status == CaptionStatus.Truncated && !Force)
            {
                WriteError(new ErrorRecord(
                    new InvalidDataException($"The caption of '{result.Path}' was cut off by the answer limit and was not written. Raise -MaxTokens and caption it again, or use -Force to write it anyway."),
                    "CaptionTruncated",
                    ErrorCategory.InvalidData,
                    result.Path));
                return;
            }

            if (!ShouldProcess(target, "Write caption"))
            {
                return;
            }

            RemoveLeftovers(Path.GetDirectoryName(target) ?? ".");
            var siblings = new List<string>(ImageExtensions.SameStemSiblings(result.Path));
            foreach (string sibling in siblings)
            {
                WriteWarning($"'{sibling}' has the same name as '{result.Path}', so both would use the caption file '{target}'.");
            }

            try
            {
                CaptionFile.WriteAtomic(target, Prefix + result.Caption + Suffix, overwrite: Force);
            }
            catch (CaptionException e)
            {
                WriteError(ErrorRecords.From(e, result.Path));
                return;
            }

            if (siblings.Count > 0)
            {
                written[target] = result.Path;
            }

            if (PassThru)
            {
                FileItems.Write(this, target);
            }
        }

        /// <summary>Once per folder, removes the temporary caption files that a killed write left behind.</summary>
        private void RemoveLeftovers(string folder)
        {
            if (!cleanedFolders.Add(folder))
            {
                return;
            }

            try
            {
                foreach (string file in Directory.EnumerateFiles(folder, ".*.tmp"))
                {
                    if (CaptionFile.IsLeftover(Path.GetFileName(file)))
                    {
                        WriteVerbose($"Removing '{file}', left by a write that was stopped.");
                        File.Delete(file);
                    }
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                WriteWarning($"Could not clean up '{folder}': {e.Message}");
            }
        }
    }
}
