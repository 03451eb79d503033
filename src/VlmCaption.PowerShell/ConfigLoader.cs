using Microsoft.PowerShell.Commands;
using VlmCaption.Hints;

namespace VlmCaption.PowerShell
{
    /// <summary>Reads caption.yaml for the cmdlets: provider paths, warnings to the warning stream, errors as terminating records.</summary>
    internal static class ConfigLoader
    {
        /// <summary>The caption.yaml at a path the user typed, its warnings written; throws <see cref="CaptionException"/>.</summary>
        public static CaptionConfig Load(PSCmdlet cmdlet, string file)
        {
            string path = ResolveFile(cmdlet, file);
            CaptionConfig loaded = CaptionConfigReader.Read(path, out IReadOnlyList<string> warnings);
            foreach (string warning in warnings)
            {
                cmdlet.WriteWarning(warning);
            }

            return loaded;
        }

        /// <summary>
        /// Where captions are read or written: -Destination, else the configuration's output_directory, mirroring
        /// -BaseDirectory, else the configuration's base_directory, else the current location; beside the images
        /// when there is no output folder.
        /// </summary>
        public static Output.CaptionPlacement Placement(PSCmdlet cmdlet, string? destination, string? baseDirectory, CaptionConfig? config)
        {
            string? folder = destination is not null ? ResolveFile(cmdlet, destination) : config?.OutputDirectory;
            if (folder is null)
            {
                return Output.CaptionPlacement.Beside;
            }

            string root = baseDirectory is not null ? ResolveFile(cmdlet, baseDirectory)
                : config is not null && config.BaseDirectory.Length > 0 ? config.BaseDirectory
                : cmdlet.SessionState.Path.CurrentFileSystemLocation.ProviderPath;
            return new Output.CaptionPlacement(root, folder);
        }

        /// <summary>A file-system path for a path the user typed, relative to the current location.</summary>
        public static string ResolveFile(PSCmdlet cmdlet, string path)
        {
            string resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out ProviderInfo provider, out _);
            if (provider.ImplementingType != typeof(FileSystemProvider))
            {
                throw new CaptionException("NotFileSystemPath", CaptionErrorCategory.InvalidArgument, $"'{path}' is on the {provider.Name} provider, not the file system.");
            }

            return resolved;
        }

        /// <summary>The configuration's hint_sources as HintSource objects (built-in names and script paths).</summary>
        public static HintSource[] HintSourcesOf(PSCmdlet cmdlet, CaptionConfig config)
        {
            var sources = new List<HintSource>();
            foreach (string name in config.HintSources)
            {
                sources.Add(BuiltInHints.IsBuiltIn(name) ? HintSources.BuiltIn(name) : HintSources.FromScript(name, cmdlet.InvokeCommand));
            }

            return sources.ToArray();
        }
    }
}
