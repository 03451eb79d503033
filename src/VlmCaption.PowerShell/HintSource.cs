namespace VlmCaption
{
    /// <summary>A source of per-image hint text: built in, a script block, or a script file.</summary>
    public sealed class HintSource
    {
        /// <summary>The name used in messages and in -HintSource.</summary>
        public string Name { get; set; } = "";

        /// <summary>What the source adds.</summary>
        public string Description { get; set; } = "";

        /// <summary>BuiltIn, ScriptBlock or Script.</summary>
        public string Kind { get; set; } = "BuiltIn";

        /// <summary>The block run for each image (ScriptBlock and Script kinds); it gets the image's FileInfo as $args[0] and $_.</summary>
        public ScriptBlock? ScriptBlock { get; set; }

        /// <summary>The script file (Script kind).</summary>
        public string? Path { get; set; }

        /// <inheritdoc />
        public override string ToString() => Name;
    }
}
