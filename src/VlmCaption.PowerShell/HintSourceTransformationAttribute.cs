using VlmCaption.Hints;

namespace VlmCaption.PowerShell
{
    /// <summary>Lets -HintSource take HintSource objects, built-in names, or paths of .ps1 hint scripts.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class HintSourceTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            var sources = new List<HintSource>();
            IEnumerable items = inputData is PSObject { BaseObject: IEnumerable list } && !(list is string) ? list
                : inputData is IEnumerable enumerable && !(inputData is string) ? enumerable
                : new[] { inputData };
            foreach (object item in items)
            {
                object value = item is PSObject wrapped ? wrapped.BaseObject : item;
                sources.Add(value switch
                {
                    HintSource source => source,
                    string name when BuiltInHints.IsBuiltIn(name) => HintSources.BuiltIn(name),
                    string path when path.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase) =>
                        HintSources.FromScript(engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path), engineIntrinsics.InvokeCommand),
                    string name => throw new ArgumentTransformationMetadataException(
                        $"'{name}' is not a hint source. Use one of {string.Join(", ", BuiltInHints.Descriptions.Keys)}, the path of a .ps1 script, or New-VlmHintSource."),
                    _ => throw new ArgumentTransformationMetadataException($"-HintSource takes names, .ps1 paths or New-VlmHintSource objects, not {value?.GetType().Name ?? "null"}."),
                });
            }

            return sources.ToArray();
        }
    }
}
