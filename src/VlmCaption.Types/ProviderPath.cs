namespace VlmCaption
{
    /// <summary>File-system paths as PowerShell's provider paths (what Get-Item puts in PSPath).</summary>
    internal static class ProviderPath
    {
        private const string FileSystem = "Microsoft.PowerShell.Core\\FileSystem::";

        /// <summary>The provider path of a full file-system path; empty stays empty.</summary>
        public static string Of(string path) => path.Length == 0 ? "" : FileSystem + path;
    }
}
