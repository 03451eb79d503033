using System;
using System.Text;

namespace VlmCaption.Conversation
{
    /// <summary>Removes reasoning and formatting tokens from an answer before it enters the history or becomes a caption.</summary>
    public static class AnswerCleaner
    {
        private const string Open = "<think>";
        private const string Close = "</think>";

        /// <summary>
        /// Drops every &lt;think&gt;…&lt;/think&gt; block, then everything up to a lone &lt;/think&gt;
        /// (servers that put the opening tag in the template), then GLM's box tokens, and trims. Linear in the
        /// answer's length: a megabyte of unclosed &lt;think&gt; tags takes no longer than a megabyte of text.
        /// </summary>
        public static string Clean(string? answer)
        {
            string text = answer ?? "";
            var kept = new StringBuilder(text.Length);
            int at = 0;
            while (true)
            {
                int open = text.IndexOf(Open, at, StringComparison.Ordinal);
                int close = open < 0 ? -1 : text.IndexOf(Close, open + Open.Length, StringComparison.Ordinal);
                if (close < 0)
                {
                    // No opening tag left, or none that is ever closed: the rest stays as it is.
                    kept.Append(text, at, text.Length - at);
                    break;
                }

                kept.Append(text, at, open - at);
                at = close + Close.Length;
            }

            text = kept.ToString();
            int lone = text.LastIndexOf(Close, StringComparison.Ordinal);
            if (lone >= 0)
            {
                text = text.Substring(lone + Close.Length);
            }

            return text.Replace("<|begin_of_box|>", "").Replace("<|end_of_box|>", "").Trim();
        }
    }
}
