namespace VlmCaption.PowerShell
{
    /// <summary>Builds PowerShell error records from engine failures.</summary>
    internal static class ErrorRecords
    {
        public static ErrorRecord From(CaptionException error, object target)
        {
            // CaptionErrorCategory's names are a subset of ErrorCategory's.
            var category = (ErrorCategory)Enum.Parse(typeof(ErrorCategory), error.Category.ToString());
            return new ErrorRecord(error, error.ErrorId, category, target);
        }
    }
}
