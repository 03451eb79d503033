using System;
using System.Collections.Generic;
using System.IO;

namespace VlmCaption.Output
{
    /// <summary>
    /// Keeps the conversation of the most recently finished image as messages_1.txt … messages_N.txt (the message
    /// list after each turn), each written atomically. Only the thread that drains results calls it, so two images
    /// never write at once; files of an earlier, longer conversation are removed.
    /// </summary>
    public static class ChatHistoryFolder
    {
        /// <summary>Writes the files; returns an error message instead of throwing, since a history file never fails a caption.</summary>
        public static string? Write(string folder, IReadOnlyList<string> history)
        {
            try
            {
                Directory.CreateDirectory(folder);
                for (int turn = 1; turn <= history.Count; turn++)
                {
                    CaptionFile.WriteAtomic(Path.Combine(folder, $"messages_{turn}.txt"), history[turn - 1], overwrite: true);
                }

                for (int turn = history.Count + 1; File.Exists(Path.Combine(folder, $"messages_{turn}.txt")); turn++)
                {
                    File.Delete(Path.Combine(folder, $"messages_{turn}.txt"));
                }

                return null;
            }
            catch (Exception e) when (e is CaptionException || e is IOException || e is UnauthorizedAccessException)
            {
                return $"The chat history could not be written to '{folder}': {e.Message}";
            }
        }
    }
}
