namespace VlmCaption.PowerShell.Commands
{
    /// <summary>
    /// Picks, for each image, the caption a trainer should read from the captions several models wrote: by model
    /// preference, or the longest or shortest, never a refused, cut-off or failed one; or keeps them all as lines of
    /// one file, for trainers that draw one line per step. What it emits goes on to Save-VlmCaption.
    /// </summary>
    [Cmdlet(VerbsCommon.Select, "VlmCaption")]
    [OutputType(typeof(CaptionResult))]
    public sealed class SelectVlmCaptionCommand : PSCmdlet
    {
        private readonly List<PSObject> group = new List<PSObject>();
        private string groupPath = "";
        private int images;
        private int picked;

        /// <summary>Captions, such as Get-VlmCaption -Model a, b or Import-VlmCaption -Model a, b emit: an image's captions one after another.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>The models in order of preference (wildcards allowed); models not named come after, in the order met.</summary>
        [Parameter(Position = 0)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Prefer { get; set; }

        /// <summary>
        /// First (the default): the first usable caption in order of preference. Longest or Shortest: by length, the
        /// preference breaking ties. All: every usable caption, in order of preference, as lines of one caption file
        /// (sd-scripts with --enable_wildcard, OneTrainer and SimpleTuner draw one line per step).
        /// </summary>
        [Parameter]
        [ValidateSet("First", "Longest", "Shortest", "All")]
        public string By { get; set; } = "First";

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (InputObject is null)
            {
                return;
            }

            string path = Text(InputObject, "Path", "LiteralPath", "PSPath", "FullName");
            if (path.Length == 0)
            {
                WriteError(new ErrorRecord(new ArgumentException("The object names no image (Path, LiteralPath, PSPath or FullName), so its caption cannot be picked."), "CaptionImageMissing", ErrorCategory.InvalidArgument, InputObject));
                return;
            }

            if (group.Count > 0 && !string.Equals(path, groupPath, StringComparison.Ordinal))
            {
                Pick();
            }

            groupPath = path;
            group.Add(InputObject);
        }

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            if (group.Count > 0)
            {
                Pick();
            }

            WriteVerbose($"Picked {picked} captions for {images} images.");
        }

        private void Pick()
        {
            images++;
            var usable = group.Where(Usable).Select((item, index) => (Item: item, Order: Preference(Text(item, "Model")), Index: index)).OrderBy(c => c.Order).ThenBy(c => c.Index).Select(c => c.Item).ToList();
            if (usable.Count == 0)
            {
                string statuses = string.Join(", ", group.Select(item => $"{Text(item, "Model")}: {Text(item, "Status")}"));
                WriteError(new ErrorRecord(new InvalidDataException($"'{groupPath}' has no caption to pick: none succeeded ({statuses})."), "NoCaptionToPick", ErrorCategory.ObjectNotFound, groupPath));
                group.Clear();
                return;
            }

            IEnumerable<PSObject> chosen = By switch
            {
                // OrderBy is stable: among equal lengths the preferred model stays first.
                "Longest" => new[] { usable.OrderByDescending(item => Text(item, "Caption").Length).First() },
                "Shortest" => new[] { usable.OrderBy(item => Text(item, "Caption").Length).First() },
                "All" => usable,
                _ => new[] { usable[0] },
            };

            List<PSObject> output = chosen.ToList();
            for (int i = 0; i < output.Count; i++)
            {
                // Save-VlmCaption writes an image's captions with CaptionIndex 1..CaptionCount as one file, a line each.
                Set(output[i], "CaptionIndex", i + 1);
                Set(output[i], "CaptionCount", output.Count);
                Unset(output[i], "CaptionFile");
                WriteObject(output[i]);
                picked++;
            }

            group.Clear();
        }

        /// <summary>A caption that succeeded and holds text; an object without a Status (a CSV of captions) counts as succeeded.</summary>
        private static bool Usable(PSObject item)
        {
            string status = Text(item, "Status");
            return (status.Length == 0 || string.Equals(status, CaptionStatus.Succeeded, StringComparison.OrdinalIgnoreCase)) && Text(item, "Caption").Trim().Length > 0;
        }

        /// <summary>The place of the model in -Prefer; models not named come after all named ones.</summary>
        private int Preference(string model)
        {
            if (Prefer is null)
            {
                return 0;
            }

            for (int i = 0; i < Prefer.Length; i++)
            {
                if (WildcardPattern.Get(Prefer[i], WildcardOptions.IgnoreCase).IsMatch(model))
                {
                    return i;
                }
            }

            return Prefer.Length;
        }

        private static string Text(PSObject item, params string[] names)
        {
            foreach (string name in names)
            {
                if (item.Properties[name]?.Value is object value && value.ToString() is string text && text.Length > 0)
                {
                    return text;
                }
            }

            return "";
        }

        /// <summary>
        /// Forgets the file a caption was read from (a model's own, photo.&lt;model&gt;.txt), so Save-VlmCaption writes the
        /// pick to the image's caption file, the one trainers read.
        /// </summary>
        private static void Unset(PSObject item, string name)
        {
            if (item.BaseObject is CaptionResult result)
            {
                result.CaptionFile = null;
            }
            else if (item.Properties[name] is PSPropertyInfo property && property.IsSettable)
            {
                property.Value = null;
            }
        }

        private static void Set(PSObject item, string name, int value)
        {
            if (item.BaseObject is CaptionResult result)
            {
                if (name == "CaptionIndex")
                {
                    result.CaptionIndex = value;
                }
                else
                {
                    result.CaptionCount = value;
                }

                return;
            }

            if (item.Properties[name] is PSPropertyInfo property && property.IsSettable)
            {
                property.Value = value;
            }
            else
            {
                item.Properties.Add(new PSNoteProperty(name, value));
            }
        }
    }
}
