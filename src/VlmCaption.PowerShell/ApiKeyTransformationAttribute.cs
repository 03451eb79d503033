using System.Net;

namespace VlmCaption.PowerShell
{
    /// <summary>Lets -ApiKey take a SecureString (e.g. from Get-Secret) or a plain string.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class ApiKeyTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            switch (value)
            {
                case null:
                case SecureString _:
                    return value;
                case string text:
                    return SecureText.From(text);
                default:
                    throw new ArgumentTransformationMetadataException($"-ApiKey takes a SecureString or a string, not {value.GetType().Name}.");
            }
        }

        /// <summary>The key as text for the request header; empty for none.</summary>
        public static string Reveal(SecureString? key) => key is null ? "" : new NetworkCredential(string.Empty, key).Password;

        /// <summary>The VLMCAPTION_API_KEY environment variable, the last place a key is looked for; null when unset.</summary>
        public static SecureString? FromEnvironment()
        {
            string? key = Environment.GetEnvironmentVariable(Config.SessionDefaults.ApiKeyVariable);
            return string.IsNullOrEmpty(key) ? null : SecureText.From(key!);
        }
    }
}
