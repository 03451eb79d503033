using System.Text;
using VlmCaption.Hints;

namespace VlmCaption.PowerShell
{
    /// <summary>Creates hint sources and computes an image's hint texts, on the pipeline thread (script blocks need it).</summary>
    internal sealed class HintSources
    {
        private readonly Cmdlet cmdlet;
        private readonly IReadOnlyList<HintSource> sources;
        private readonly BuiltInHints builtIn;

        /// <param name="cmdlet">Where warnings go.</param>
        /// <param name="sources">The sources, in order.</param>
        /// <param name="config">The run's configuration: its caption extension and output folder say where existing_caption reads the current caption.</param>
        public HintSources(Cmdlet cmdlet, IReadOnlyList<HintSource> sources, CaptionConfig config)
        {
            this.cmdlet = cmdlet;
            this.sources = sources;
            builtIn = new BuiltInHints(config.CaptionExtension, Output.CaptionPlacement.For(config));
        }

        public static HintSource BuiltIn(string name) =>
            new HintSource { Name = name, Description = BuiltInHints.Descriptions[name], Kind = "BuiltIn" };

        public static IEnumerable<HintSource> AllBuiltIn() => BuiltInHints.Descriptions.Keys.Select(BuiltIn);

        /// <summary>A source from a script file; throws when the file is missing or does not parse.</summary>
        public static HintSource FromScript(string path, CommandInvocationIntrinsics invokeCommand)
        {
            if (!File.Exists(path))
            {
                throw new CaptionException("HintScriptNotFound", CaptionErrorCategory.ObjectNotFound, $"The hint script '{path}' does not exist.");
            }

            var script = (ExternalScriptInfo)invokeCommand.GetCommand(path, CommandTypes.ExternalScript);
            return new HintSource
            {
                Name = System.IO.Path.GetFileNameWithoutExtension(path),
                Description = $"Script {path}",
                Kind = "Script",
                Path = path,
                ScriptBlock = script.ScriptBlock,
            };
        }

        /// <summary>The hint texts of every source for one image, in order; a failing source is a warning and is left out.</summary>
        /// <param name="file">The image's full path.</param>
        /// <param name="displayPath">The path as given or found, for full_path.</param>
        public IReadOnlyList<string> Build(string file, string displayPath)
        {
            var texts = new List<string>(sources.Count);
            FileInfo? info = null;
            foreach (HintSource source in sources)
            {
                try
                {
                    string? text = source.ScriptBlock is null
                        ? builtIn.Build(source.Name, file, displayPath)
                        : Run(source.ScriptBlock, info ??= new FileInfo(file));
                    if (!string.IsNullOrEmpty(text))
                    {
                        texts.Add(text!);
                    }
                }
                catch (Exception e) when (e is CaptionException || e is RuntimeException || e is ArgumentException)
                {
                    // An error turned terminating by ErrorActionPreference carries the script's own error record.
                    string reason = (e as RuntimeException)?.ErrorRecord?.Exception?.Message ?? e.Message;
                    cmdlet.WriteWarning($"Hint source '{source.Name}' failed for '{file}' and was left out: {reason}");
                }
            }

            return texts;
        }

        // Output lines are joined; a hint ends in a newline like the built-in ones, so hints stay one blank line apart.
        // Errors stop the block: a source that wrote an error has failed, and half its text must not be sent.
        private static string? Run(ScriptBlock block, FileInfo image)
        {
            var variables = new List<PSVariable> { new PSVariable("_", image), new PSVariable("ErrorActionPreference", ActionPreference.Stop) };
            var output = block.InvokeWithContext(null, variables, image);
            var text = new StringBuilder();
            foreach (PSObject item in output)
            {
                if (item?.BaseObject is object value && value.ToString() is string line)
                {
                    text.Append(line.TrimEnd('\n', '\r')).Append('\n');
                }
            }

            return text.ToString().Trim().Length == 0 ? null : text.ToString();
        }
    }
}
