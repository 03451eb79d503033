using System;
using System.IO;
using System.Text;

namespace VlmCaption.Conversation
{
    /// <summary>The global metadata file (e.g. a character codex) placed before the system prompt.</summary>
    public static class GlobalMetadata
    {
        /// <summary>Reads the whole file as UTF-8 (a BOM is dropped), whatever the platform's default encoding.</summary>
        public static string Read(string path)
        {
            try
            {
                return File.ReadAllText(path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
            {
                throw new CaptionException("GlobalMetadataUnreadable", CaptionErrorCategory.ReadError, $"Cannot read the global metadata file '{path}': {e.Message}", e);
            }
        }
    }
}
