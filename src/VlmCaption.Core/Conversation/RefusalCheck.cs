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
        /// <summary>The opening <paramref name="caption"/> refuses with, or null for a caption.</summary>
        public static string? Match(string caption, IReadOnlyList<string> extra)
        {
            string start = caption.TrimStart(' ', '\t', '\r', '\n', '"', '*', '_', '#').Replace('\u2019', '\'');
            return RefusalOpenings.BuiltIn.Concat(extra)
                .Where(phrase => phrase.Trim().Length > 0)
                .FirstOrDefault(phrase => start.StartsWith(phrase.Trim().Replace('\u2019', '\''), StringComparison.OrdinalIgnoreCase));
        }
    }
}
