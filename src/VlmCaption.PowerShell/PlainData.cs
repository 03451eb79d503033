namespace VlmCaption.PowerShell
{
    /// <summary>
    /// A hashtable from the command line as plain .NET values (dictionaries, lists, numbers, text), so the core,
    /// which knows nothing of PowerShell, writes it as JSON with the right types.
    /// </summary>
    internal static class PlainData
    {
        public static IDictionary? From(Hashtable? table) => table is null ? null : (IDictionary)Plain(table)!;

        /// <summary>Any value as plain data; a PSCustomObject (ConvertFrom-Json's, a result's Data) becomes a dictionary of its properties.</summary>
        public static object? Of(object? value) => Plain(value);

        private static object? Plain(object? value)
        {
            if (value is PSObject { BaseObject: PSCustomObject } custom)
            {
                var properties = new Dictionary<string, object?>();
                foreach (PSPropertyInfo property in custom.Properties)
                {
                    properties[property.Name] = Plain(property.Value);
                }

                return properties;
            }

            value = value is PSObject wrapped ? wrapped.BaseObject : value;
            switch (value)
            {
                case null:
                case string _:
                    return value;
                case IDictionary map:
                    var plain = new Dictionary<string, object?>();
                    foreach (DictionaryEntry entry in map)
                    {
                        plain[entry.Key?.ToString() ?? ""] = Plain(entry.Value);
                    }

                    return plain;
                case IEnumerable list:
                    var items = new List<object?>();
                    foreach (object? item in list)
                    {
                        items.Add(Plain(item));
                    }

                    return items;
                default:
                    return value;
            }
        }
    }
}
