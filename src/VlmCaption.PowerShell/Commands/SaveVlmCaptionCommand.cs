using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using VlmCaption.Images;
using VlmCaption.Output;

namespace VlmCaption.PowerShell.Commands
{
    /// <summary>
    /// Writes each caption to a file beside its image, atomically. It binds by property name (the image as PSPath
    /// or Path, Caption, Status, Model, Config), so results from Get-VlmCaption, from Import-Csv or Import-Clixml,
    /// or any object with those properties can be saved.
    /// </summary>
    [Cmdlet(VerbsData.Save, "VlmCaption", SupportsShouldProcess = true)]
    [OutputType(typeof(FileInfo))]
    public sealed class SaveVlmCaptionCommand : PSCmdlet
    {
        private readonly HashSet<string> cleanedFolders = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        // Caption files written by this invocation for images that have a same-stem sibling (a.jpg beside
        // a.png): only those can collide, so the dictionary stays small however many captions are saved.
        private readonly Dictionary<string, string> written = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        private readonly Dictionary<string, CaptionConfig> loadedConfigs = new Dictionary<string, CaptionConfig>(StringComparer.Ordinal);

        /// <summary>The image whose caption this is, taken exactly as written.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "Path", "FullName")]
        [ValidateNotNullOrEmpty]
        public string LiteralPath { get; set; } = "";

        /// <summary>The caption text.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [AllowEmptyString]
        public string Caption { get; set; } = "";

        /// <summary>Succeeded or Truncated; a truncated caption is written only with -Force.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? Status { get; set; }

        /// <summary>The model, for jsonl lines.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public string? Model { get; set; }

        /// <summary>A caption.yaml path or object whose prefix, suffix, caption_extension and output_format apply; results made with -Config carry theirs.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public object? Config { get; set; }

        /// <summary>Extension of the caption file; "txt" and ".txt" both work.</summary>
        [Parameter]
        [CaptionExtensionTransformation]
        public string Extension { get; set; } = CaptionExtension.Default;

        /// <summary>Text put before every caption, e.g. a trigger word.</summary>
        [Parameter]
        public string Prefix { get; set; } = "";

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

        /// <summary>Emit the FileInfo of each written file.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string image;
            CaptionConfig? config;
            try
            {
                image = ConfigLoader.ResolveFile(this, LiteralPath);
                config = ConfigOf(Config);
            }
            catch (CaptionException e)
            {
                WriteError(ErrorRecords.From(e, LiteralPath));
                return;
            }

            string prefix = Bound(nameof(Prefix)) || config is null ? Prefix : config.Prefix;
            string suffix = Bound(nameof(Suffix)) || config is null ? Suffix : config.Suffix;
            string extension = Bound(nameof(Extension)) || config is null ? Extension : config.CaptionExtension;
            bool jsonl = !Bound(nameof(Extension)) && config?.OutputFormat == "jsonl";
            string target = jsonl ? JsonlCaptionFile.PathFor(image) : CaptionFile.PathFor(image, extension);

            if (ImageExtensions.IsImage(target))
            {
                WriteError(new ErrorRecord(new IOException($"'{target}' is an image; a caption is never written over one."), "CaptionOverImage", ErrorCategory.InvalidArgument, image));
                return;
            }

            if (!jsonl && written.TryGetValue(target, out string? first))
            {
                WriteError(new ErrorRecord(
                    new IOException($"'{image}' and '{first}' both caption to '{target}'; the caption of '{image}' was not written. Rename one image or use -Extension."),
                    "CaptionPathConflict",
                    ErrorCategory.ResourceExists,
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

            if (!ShouldProcess(target, jsonl ? "Append caption" : "Write caption"))
            {
                return;
            }

            try
            {
                string text = prefix + Caption + suffix;
                if (jsonl)
                {
                    WriteJsonl(image, text, config!);
                }
                else
                {
                    RemoveLeftovers(Path.GetDirectoryName(target) ?? ".");
                    var siblings = new List<string>(ImageExtensions.SameStemSiblings(image));
                    foreach (string sibling in siblings)
                    {
                        WriteWarning($"'{sibling}' has the same name as '{image}', so both would use the caption file '{target}'.");
                    }

                    string? mode = Existing?.ToLowerInvariant() ?? (Bound(nameof(Force)) || config is null ? null : config.Existing);
                    string? old = mode is "append" or "prepend" ? CaptionFile.Read(target) : null;
                    CaptionFile.WriteAtomic(target, ExistingCaption.Combine(mode, old, text), overwrite: Force || mode is "overwrite" or "append" or "prepend");
                    if (siblings.Count > 0)
                    {
                        written[target] = image;
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

        private bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

        private void WriteJsonl(string image, string text, CaptionConfig config)
        {
            string model = Model ?? config.Model;
            string prompt = JsonlCaptionFile.PromptField(config.Prompts);
            if (!Force && JsonlCaptionFile.HasCaption(image, model, prompt))
            {
                throw new CaptionException("CaptionExists", CaptionErrorCategory.WriteError, $"'{JsonlCaptionFile.PathFor(image)}' already has a caption by '{model}' for these prompts. Use -Force to add another.");
            }

            JsonlCaptionFile.Append(image, text, model, prompt);
        }

        /// <summary>The configuration a result names: an object as is, a path read once per invocation; none for null or empty.</summary>
        private CaptionConfig? ConfigOf(object? value)
        {
            value = value is PSObject wrapped ? wrapped.BaseObject : value;
            if (value is null || value is CaptionConfig)
            {
                return (CaptionConfig?)value;
            }

            // A path, or what a CSV or Clixml round trip made of a configuration: its ToString, the path.
            string path = value.ToString() ?? "";
            if (path.Length == 0)
            {
                return null;
            }

            if (!loadedConfigs.TryGetValue(path, out CaptionConfig? config))
            {
                loadedConfigs[path] = config = ConfigLoader.Load(this, path);
            }

            return config;
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
                foreach (string file in Directory.EnumerateFiles(folder, ".vlmcaption-*.tmp"))
                {
                    if (CaptionFile.IsLeftover(file))
                    {
                        WriteVerbose($"Removing '{file}', left by a write that was stopped.");
                        File.Delete(file);
                    }
                }
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                WriteWarning($"Could not remove leftovers in '{folder}': {e.Message}");
            }
        }
    }
}
