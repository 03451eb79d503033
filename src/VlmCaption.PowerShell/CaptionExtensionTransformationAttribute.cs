namespace VlmCaption.PowerShell
{
    /// <summary>Lets -Extension take "txt" as well as ".txt", and refuses image and sidecar extensions before anything runs.</summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    internal sealed class CaptionExtensionTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object? inputData)
        {
            object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
            try
            {
                return CaptionExtension.Normalize(value?.ToString());
            }
            catch (ArgumentException e)
            {
                throw new ArgumentTransformationMetadataException(e.Message, e);
            }
        }
    }
}
