using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;

namespace VlmCaption.Output
{
    /// <summary>
    /// The post-processing rules, applied to a caption after the retry rules and before the prefix and suffix, in
    /// this order: the replacements, the phrases to strip, tag handling (when captions are tag lists), the word
    /// limit, then tidying.
    /// </summary>
    public sealed class PostProcessing
    {
        // A pattern that backtracks without end must not hang a run: each match has this long.
        private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);
        private static readonly Regex Spaces = new Regex(@"[ \t]+", RegexOptions.CultureInvariant);
        private static readonly Regex SpaceBeforePunctuation = new Regex(@"[ \t]+([,.;:!?])", RegexOptions.CultureInvariant);
        private static readonly Regex RepeatedPunctuation = new Regex(@"([,;:])(\s*[,;:.])+|\.(\s*\.)+(?!\.)", RegexOptions.CultureInvariant);
        private static readonly Regex BlankLines = new Regex(@"\n\s*\n+", RegexOptions.CultureInvariant);

        private readonly List<(Regex Pattern, string Replacement)> replacements;
        private readonly CaptionConfig rules;

        /// <summary>The rules of a configuration; throws <see cref="ArgumentException"/> for a pattern that is not a regular expression.</summary>
        public PostProcessing(CaptionConfig config)
        {
            rules = config;
            replacements = config.Replacements.Select(r => (new Regex(r.Pattern, RegexOptions.CultureInvariant, MatchTimeout), r.Replacement)).ToList();
        }

        /// <summary>True when there is nothing to do.</summary>
        public bool IsEmpty => replacements.Count == 0 && rules.StripPhrases.Length == 0 && !rules.Tidy && rules.TagSeparator is null && rules.MaxWords == 0;

        /// <summary>What the rules do, for -WhatIf and -Verbose.</summary>
        public string Describe()
        {
            var parts = new List<string>();
            if (replacements.Count > 0)
            {
                parts.Add($"{replacements.Count} replacement{(replacements.Count == 1 ? "" : "s")}");
            }

            if (rules.StripPhrases.Length > 0)
            {
                parts.Add($"{rules.StripPhrases.Length} phrase{(rules.StripPhrases.Length == 1 ? "" : "s")} stripped");
            }

            if (rules.TagSeparator is not null)
            {
                parts.Add($"tags split on '{rules.TagSeparator.Trim()}'{(rules.DropTags.Length > 0 ? $", {rules.DropTags.Length} dropped" : "")}");
            }

            if (rules.MaxWords > 0)
            {
                parts.Add($"at most {rules.MaxWords} words");
            }

            if (rules.Tidy)
            {
                parts.Add("tidied");
            }

            return string.Join(", ", parts);
        }

        /// <summary>The caption with the rules applied.</summary>
        public string Apply(string caption)
        {
            string text = caption;
            foreach ((Regex pattern, string replacement) in replacements)
            {
                try
                {
                    text = pattern.Replace(text, replacement);
                }
                catch (RegexMatchTimeoutException)
                {
                    throw new CaptionException("PostProcessingFailed", CaptionErrorCategory.InvalidData, $"The replacement pattern '{pattern}' took longer than {MatchTimeout.TotalSeconds:0} s on a caption; simplify it.");
                }
            }

            foreach (string phrase in rules.StripPhrases.Where(p => p.Length > 0))
            {
                text = Regex.Replace(text, Regex.Escape(phrase), "", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
            }

            if (rules.TagSeparator is string separator)
            {
                text = Tags(text, separator);
            }

            if (rules.MaxWords > 0)
            {
                text = Shorten(text, rules.MaxWords);
            }

            return rules.Tidy ? Tidy(text) : text.Trim();
        }

        /// <summary>Collapses spaces, drops spaces before punctuation and doubled punctuation, keeps single line breaks.</summary>
        public static string Tidy(string text)
        {
            text = text.Replace("\r\n", "\n");
            text = Spaces.Replace(text, " ");
            text = SpaceBeforePunctuation.Replace(text, "$1");
            text = RepeatedPunctuation.Replace(text, m => m.Value.TrimStart()[0] == '.' ? "." : m.Value.Substring(0, 1));
            text = BlankLines.Replace(text, "\n");
            return string.Join("\n", text.Split('\n').Select(line => line.Trim().TrimStart(',', ';', ':').Trim())).Trim();
        }

        private string Tags(string text, string separator) =>
            string.Join(separator, CleanTags(text.Split(new[] { separator.Trim().Length > 0 ? separator.Trim() : separator }, StringSplitOptions.None)));

        /// <summary>Tags trimmed, underscores made spaces (tag_underscores), the drop list left out and duplicates removed, ignoring case.</summary>
        public IReadOnlyList<string> CleanTags(IEnumerable<string> tags)
        {
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var drop = new HashSet<string>(rules.DropTags.Select(t => t.Trim()), StringComparer.OrdinalIgnoreCase);
            var kept = new List<string>();
            foreach (string raw in tags)
            {
                string tag = rules.TagUnderscores ? raw.Replace('_', ' ').Trim() : raw.Trim();
                if (tag.Length > 0 && !drop.Contains(tag) && seen.Add(tag))
                {
                    kept.Add(tag);
                }
            }

            return kept;
        }

        /// <summary>
        /// A result's caption post-processed: a structured caption's tags cleaned and its text rendered again by
        /// json_render first, then the text rules; the result is changed and its caption returned.
        /// </summary>
        public string ApplyTo(CaptionResult result)
        {
            Structured.StructuredCaption.Refresh(result, rules.JsonRender, CleanTags);
            result.Caption = Apply(result.Caption);
            return result.Caption;
        }

        // At most n words; cut after the last sentence end within them when there is one past the first half.
        private static string Shorten(string text, int maxWords)
        {
            string[] words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length <= maxWords)
            {
                return text;
            }

            var kept = new StringBuilder(string.Join(" ", words.Take(maxWords)));
            string cut = kept.ToString();
            int end = cut.LastIndexOfAny(new[] { '.', '!', '?' });
            if (end >= 0 && cut.Substring(0, end).Split(' ').Length >= maxWords / 2)
            {
                return cut.Substring(0, end + 1);
            }

            return cut.TrimEnd(',', ';', ':', ' ');
        }
    }
}
