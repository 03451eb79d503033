using System.Runtime.CompilerServices;
using Microsoft.PowerShell.Commands;

namespace VlmCaption.PowerShell
{
    /// <summary>
    /// Lets every -Config take what users have at hand and hands the cmdlet a <see cref="CaptionConfig"/>: an
    /// Import-VlmCaptionConfig object as it is, a caption.yaml path (relative to the current location) or a
    /// FileInfo read, and an empty text (a CSV's Config column of a result made without one) as none. The reader's
    /// warnings wait beside the configuration until the cmdlet writes them (<see cref="WriteWarnings"/>), so they
    /// reach its warning stream; a file that cannot be read fails the binding with the reader's message.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class ConfigTransformationAttribute : ArgumentTransformationAttribute
    {
        private static readonly ConditionalWeakTable<CaptionConfig, IReadOnlyList<string>> Pending = new ConditionalWeakTable<CaptionConfig, IReadOnlyList<string>>();

        // The files read last, by path, size and time written: rows of one CSV name the same file again and again.
        private static readonly Dictionary<string, (DateTime Written, long Length, CaptionConfig Config, IReadOnlyList<string> Warnings)> Recent =
            new Dictionary<string, (DateTime, long, CaptionConfig, IReadOnlyList<string>)>(StringComparer.Ordinal);

        private const int RecentFiles = 8;

        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            switch (value)
            {
                case null:
                case CaptionConfig _:
                    return value;
                case FileInfo file:
                    return Read(file.FullName);
                default:
                    // A path, or what a CSV or Clixml round trip made of a configuration: its ToString, the path.
                    string text = inputData!.ToString() ?? "";
                    if (text.Trim().Length == 0)
                    {
                        return null;
                    }

                    string path = engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(text, out ProviderInfo provider, out _);
                    if (provider.ImplementingType != typeof(FileSystemProvider))
                    {
                        throw new ArgumentTransformationMetadataException($"'{text}' is on the {provider.Name} provider, not the file system.");
                    }

                    return Read(path);
            }
        }

        /// <summary>Writes the reader's warnings about <paramref name="config"/> to the cmdlet's warning stream, once.</summary>
        public static CaptionConfig? WriteWarnings(Cmdlet cmdlet, CaptionConfig? config)
        {
            if (config is not null && Pending.TryGetValue(config, out IReadOnlyList<string>? warnings))
            {
                Pending.Remove(config);
                foreach (string warning in warnings)
                {
                    cmdlet.WriteWarning(warning);
                }
            }

            return config;
        }

        private static CaptionConfig Read(string path)
        {
            var info = new FileInfo(path);
            (DateTime, long) stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
            lock (Recent)
            {
                if (Recent.TryGetValue(path, out var known) && (known.Written, known.Length) == stamp)
                {
                    // A copy: what a script changes on one command's configuration is not the next one's.
                    CaptionConfig copy = known.Config.Clone();
                    Remember(copy, known.Warnings);
                    return copy;
                }
            }

            CaptionConfig config;
            IReadOnlyList<string> warnings;
            try
            {
                config = CaptionConfigReader.Read(path, out warnings);
            }
            catch (CaptionException e)
            {
                throw new ArgumentTransformationMetadataException(e.Message, e);
            }

            lock (Recent)
            {
                if (Recent.Count >= RecentFiles)
                {
                    Recent.Clear();
                }

                Recent[path] = (stamp.Item1, stamp.Item2, config, warnings);
            }

            CaptionConfig given = config.Clone();
            Remember(given, warnings);
            return given;
        }

        private static void Remember(CaptionConfig config, IReadOnlyList<string> warnings)
        {
            Pending.Remove(config);
            Pending.Add(config, warnings);
        }
    }
}
