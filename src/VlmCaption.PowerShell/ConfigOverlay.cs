namespace VlmCaption.PowerShell
{
    /// <summary>
    /// Lays the parameters a user typed over a caption.yaml, for every cmdlet that takes one: the catalogue
    /// (<see cref="ConfigOptions"/>) says which parameter stands for which key and which cmdlets have it, so a new
    /// option's parameter needs no code here. Only what was typed counts (BoundParameters); everything else keeps
    /// caption.yaml's value, or the catalogue's default without one.
    /// </summary>
    internal static class ConfigOverlay
    {
        /// <summary>A copy of <paramref name="loaded"/> with <paramref name="cmdlet"/>'s typed parameters laid over it; throws <see cref="CaptionException"/>.</summary>
        public static CaptionConfig Apply(PSCmdlet cmdlet, CaptionConfig loaded)
        {
            string command = cmdlet.MyInvocation.MyCommand.Name;
            var bound = cmdlet.MyInvocation.BoundParameters;
            CaptionConfig effective = loaded.Clone();
            foreach (ConfigOption option in ConfigOptions.All)
            {
                // hint_sources become HintSource objects and -Replace adds to replacements (their cmdlets do both);
                // -FallbackModel makes or changes the fallback's configuration, below.
                if (option.Key != "hint_sources" && option.Key != "replacements" && option.Key != "fallback" && option.Key != "model" && option.Key != "json_schema" && option.Commands.Contains(command) && bound.TryGetValue(option.Parameter, out object? value))
                {
                    ConfigValues.Set(effective, option, ValueOf(cmdlet, option, value is PSObject wrapped ? wrapped.BaseObject : value));
                }
            }

            if (ConfigOptions.Find("model").Commands.Contains(command) && bound.TryGetValue("Model", out object? model))
            {
                // -Model a, b compares models, as a list under model: does; one name replaces the list.
                string[] names = model is string[] several ? several : new[] { (string)model };
                ModelList.Check(names);
                effective.Model = names[0];
                effective.Models = names.Length > 1 ? names : Array.Empty<string>();
            }

            if (ConfigOptions.Find("json_schema").Commands.Contains(command) && bound.TryGetValue("JsonSchema", out object? schema))
            {
                effective.JsonSchema = StructuredData.SchemaText(cmdlet, schema);
            }

            if (bound.ContainsKey("Existing"))
            {
                effective.SkipIfCaptionExists = effective.Existing == "skip";
            }

            if (bound.TryGetValue("Batch", out object? batch) && !((SwitchParameter)batch).IsPresent)
            {
                // -Batch:$false captions live, also over a caption.yaml that names batch_files.
                effective.BatchFiles = bound.ContainsKey("BatchFiles") ? effective.BatchFiles : null;
            }

            foreach (ConfigOption option in ConfigOptions.All)
            {
                // -NoStream and the like set their key to false where they are typed.
                if (option.NegatedBy.Length > 0 && bound.TryGetValue(option.NegatedBy, out object? negation))
                {
                    ConfigValues.Set(effective, option, !((SwitchParameter)negation).IsPresent);
                }
            }

            if (bound.TryGetValue("FallbackModel", out object? fallbackModel))
            {
                // -FallbackModel: the run's own settings with another model, or caption.yaml's fallback with this model.
                CaptionConfig fallback = (effective.Fallback ?? effective).Clone();
                fallback.Fallback = null;
                fallback.Model = (string)fallbackModel;
                effective.Fallback = fallback;
            }

            if (cmdlet is EndpointCommandBase)
            {
                effective.ApiKey ??= ApiKeyTransformationAttribute.FromEnvironment();
                if (bound.TryGetValue("ProxyCredential", out object? credential))
                {
                    effective.ProxyCredential = ((PSCredential)credential).GetNetworkCredential();
                }

                // Checked here, so a bad proxy fails before any request.
                Transport.ProxySettings.From(effective.Proxy, effective.ProxyCredential, effective.ProxyUseDefaultCredentials);
            }

            return effective;
        }

        /// <summary>A parameter's value as the configuration holds the key's.</summary>
        private static object? ValueOf(PSCmdlet cmdlet, ConfigOption option, object? value)
        {
            switch (value)
            {
                case SwitchParameter flag:
                    return flag.IsPresent;
                case Uri uri:
                    return uri.OriginalString;
                case Hashtable body:
                    return PlainData.From(body);
                case string text when option.Kind == "path":
                    return ConfigLoader.ResolveFile(cmdlet, text);
                case string text when option.Kind == "choice":
                    return text.ToLowerInvariant();
                case string text when option.Key == "shard":
                    try
                    {
                        return Output.Shard.Parse(text).ToString();
                    }
                    catch (ArgumentException e)
                    {
                        throw new CaptionException("InvalidShard", CaptionErrorCategory.InvalidArgument, e.Message, e);
                    }

                case string text when option.Kind == "text or list":
                    return new[] { text };
                default:
                    return value;
            }
        }
    }
}
