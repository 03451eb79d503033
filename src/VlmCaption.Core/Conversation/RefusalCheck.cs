using System;
using System.Collections.Generic;
using System.Linq;

namespace VlmCaption.Conversation
{
    /// <summary>
    /// Tells a refusal from a caption by how it opens: the phrases models start a refusal with (OpenAI's, Anthropic's,
    /// Gemini's, Qwen's and Llama's, in English and the languages captioners most often prompt in), plus those
    /// refusal_phrases adds. Only the opening counts: a caption that says "the sign reads: sorry, we're closed" later
    /// is a caption. A refusal is never saved; its result says Refused.
    /// </summary>
    public static class RefusalCheck
    {
        // The built-in openings as compared: trimmed, a curly apostrophe straight; made once.
        private static readonly string[] Openings = RefusalOpenings.BuiltIn.Select(Normal).Where(o => o.Length > 0).ToArray();

        /// <summary>The opening <paramref name="caption"/> refuses with, or null for a caption.</summary>
        public static string? Match(string caption, IReadOnlyList<string> extra)
        {
            string start = Normal(caption.TrimStart(' ', '\t', '\r', '\n', '"', '*', '_', '#'));
            string? builtIn = Array.Find(Openings, opening => start.StartsWith(opening, StringComparison.OrdinalIgnoreCase));
            return builtIn ?? extra.Select(Normal).FirstOrDefault(opening => opening.Length > 0 && start.StartsWith(opening, StringComparison.OrdinalIgnoreCase));
        }

        private static string Normal(string text) => text.Trim().Replace('\u2019', '\'');
    }
}
