namespace VlmCaption.PowerShell.Commands
{
    /// <summary>
    /// Applies post-processing rules to the Caption of each object piped in (results, Import-VlmCaption and
    /// Import-Csv objects) and passes it on: replacements, phrases stripped, tag handling, a word limit, tidying.
    /// </summary>
    [Cmdlet(VerbsData.Edit, "VlmCaption")]
    [OutputType(typeof(CaptionResult), typeof(PSObject))]
    public sealed class EditVlmCaptionCommand : PSCmdlet
    {
        private PostProcessing rules = null!;
        private bool rerender;

        /// <summary>
        /// Overrides json_render: renders a structured caption's text again from its object (Data or DataJson), as
        /// '{subject}, {setting}, {style}', without asking the model; its tags go through the tag rules first.
        /// </summary>
        [Parameter]
        [AllowEmptyString]
        public string? Render { get; set; }

        /// <summary>An object with a Caption property.</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true)]
        [ValidateNotNull]
        public PSObject InputObject { get; set; } = null!;

        /// <summary>Ordered replacements: an ordered hashtable of regular expression to replacement, e.g. [ordered]@{ '^The image shows ' = '' }.</summary>
        [Parameter]
        [ValidateNotNull]
        public IDictionary? Replace { get; set; }

        /// <summary>Phrases removed, ignoring case.</summary>
        [Parameter]
        [ValidateNotNull]
        public string[]? StripPhrase { get; set; }

        /// <summary>Collapse spaces, drop spaces before punctuation and doubled punctuation.</summary>
        [Parameter]
        public SwitchParameter Tidy { get; set; }

        /// <summary>Treat captions as tag lists split on this separator (e.g. ", "): trimmed, de-duplicated, rejoined.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? TagSeparator { get; set; }

        /// <summary>Underscores in tags become spaces.</summary>
        [Parameter]
        public SwitchParameter TagUnderscores { get; set; }

        /// <summary>Tags left out, ignoring case.</summary>
        [Parameter]
        [ValidateNotNull]
        public string[]? DropTag { get; set; }

        /// <summary>The most words kept, cut at a sentence end where one is near; 0 for no limit (over a caption.yaml that sets one).</summary>
        [Parameter]
        [ValidateRange(0, 100_000)]
        public int MaxWords { get; set; }

        /// <summary>A caption.yaml path or object whose post-processing keys apply; the parameters add to or replace them.</summary>
        [Parameter]
        [ConfigTransformation]
        public CaptionConfig? Config { get; set; }

        /// <inheritdoc />
        protected override void BeginProcessing()
        {
            try
            {
                CaptionConfig config = ConfigOverlay.Apply(this, Config is null ? new CaptionConfig() : ConfigTransformationAttribute.WriteWarnings(this, Config)!);
                if (Replace is not null)
                {
                    config.Replacements = config.Replacements.Concat(Replace.Cast<DictionaryEntry>().Select(e => new CaptionReplacement { Pattern = e.Key?.ToString() ?? "", Replacement = e.Value?.ToString() ?? "" })).ToArray();
                }

                rules = new PostProcessing(config);
                rerender = MyInvocation.BoundParameters.ContainsKey(nameof(Render)) || config.JsonRender.Length > 0;
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, Config!));
            }
            catch (ArgumentException e)
            {
                ThrowTerminatingError(new ErrorRecord(e, "InvalidPattern", ErrorCategory.InvalidArgument, Replace));
            }
        }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            PSPropertyInfo? caption = InputObject.Properties["Caption"];
            if (caption?.Value is not object value)
            {
                WriteError(new ErrorRecord(new PSArgumentException("The object has no Caption to edit."), "NoCaption", ErrorCategory.InvalidArgument, InputObject));
                return;
            }

            try
            {
                PSPropertyInfo? dataJson = InputObject.Properties["DataJson"];
                string? json = rerender ? StructuredData.Json(InputObject.Properties["Data"]?.Value, dataJson?.Value as string) : null;
                if (json is not null)
                {
                    // A structured caption: its text made again from its object (edited or not), then the text rules.
                    var structured = new CaptionResult { Caption = value.ToString() ?? "", DataJson = json };
                    caption.Value = rules.ApplyTo(structured);
                    if (InputObject.BaseObject is CaptionResult result)
                    {
                        result.DataJson = structured.DataJson;
                        result.Data = null;
                        StructuredData.Attach(result);
                    }
                    else if (dataJson is not null && dataJson.IsSettable)
                    {
                        dataJson.Value = structured.DataJson;
                    }
                }
                else
                {
                    caption.Value = rules.Apply(value.ToString() ?? "");
                }
            }
            catch (CaptionException e)
            {
                WriteError(ErrorRecords.From(e, InputObject));
                return;
            }

            WriteObject(InputObject);
        }
    }
}
