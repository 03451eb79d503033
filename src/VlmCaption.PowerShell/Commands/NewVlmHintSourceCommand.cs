namespace VlmCaption.PowerShell.Commands
{
    /// <summary>Makes a hint source from a script block or a script file, for -HintSource.</summary>
    [Cmdlet(VerbsCommon.New, "VlmHintSource", DefaultParameterSetName = BlockSet)]
    [OutputType(typeof(HintSource))]
    public sealed class NewVlmHintSourceCommand : PSCmdlet
    {
        private const string BlockSet = "ScriptBlock";
        private const string FileSet = "Path";

        /// <summary>The source's name, used in warnings.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Name { get; set; } = "";

        /// <summary>Run for each image with its FileInfo as $_ and $args[0]; returns the hint text, or nothing to skip.</summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = BlockSet)]
        public ScriptBlock ScriptBlock { get; set; } = null!;

        /// <summary>A .ps1 file that does the same.</summary>
        [Parameter(Mandatory = true, ParameterSetName = FileSet)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        /// <summary>What the source adds.</summary>
        [Parameter]
        public string Description { get; set; } = "";

        /// <inheritdoc />
        protected override void EndProcessing()
        {
            if (ParameterSetName == BlockSet)
            {
                WriteObject(new HintSource { Name = Name, Description = Description, Kind = "ScriptBlock", ScriptBlock = ScriptBlock });
                return;
            }

            try
            {
                HintSource source = HintSources.FromScript(ConfigLoader.ResolveFile(this, Path), InvokeCommand);
                source.Name = Name;
                if (Description.Length > 0)
                {
                    source.Description = Description;
                }

                WriteObject(source);
            }
            catch (CaptionException e)
            {
                ThrowTerminatingError(ErrorRecords.From(e, Path));
            }
        }
    }
}
