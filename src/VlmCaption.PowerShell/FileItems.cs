namespace VlmCaption.PowerShell
{
    /// <summary>Emits written files the way Get-Item does, with PSPath, so they pipe into Get-Content or Remove-Item.</summary>
    internal static class FileItems
    {
        public static void Write(PSCmdlet cmdlet, string path) =>
            cmdlet.WriteObject(cmdlet.SessionState.InvokeProvider.Item.Get(new[] { path }, force: true, literalPath: true), enumerateCollection: true);
    }
}
