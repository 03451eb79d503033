namespace VlmCaption.PowerShell
{
    /// <summary>The names of the parameter sets the path-taking cmdlets share, as Get-ChildItem names its own.</summary>
    internal static class ParameterSets
    {
        /// <summary>Paths with wildcards.</summary>
        public const string Path = "Path";

        /// <summary>Paths taken exactly as written; objects with PSPath bind here.</summary>
        public const string LiteralPath = "LiteralPath";
    }
}
