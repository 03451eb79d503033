using System;
using System.Text.RegularExpressions;

namespace VlmCaption.Conversation
{
    /// <summary>Removes reasoning and formatting tokens from an answer before it enters the history or becomes a caption.</summary>
    public static class AnswerCleaner
    {
        private static readonly Regex ThinkBlock = new Regex("<think>.*?</think>", RegexOptions.Singleline | RegexOptions.CultureInvariant);

        /// <summary>
        /// Drops every &lt;think&gt;…&lt;/think&gt; block, then everything up to a lone &lt;/think&gt;
        /// (servers that put the opening tag in the template), then GLM's box tokens, and trims.
        /// </summary>
        public static string Clean(string? answer)
        {
            string text = ThinkBlock.Replace(answer ?? "", "");
            int close = text.LastIndexOf("</think>", StringComparison.Ordinal);
            if (close >= 0)
            {
                text = text.Substring(close + "</think>".Length);
            }

            return text.Replace("<|begin_of_box|>", "").Replace("<|end_of_box|>", "").Trim();
        }
    }
}
