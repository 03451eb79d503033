using System;
using System.Collections.Generic;

namespace VlmCaption
{
    /// <summary>
    /// One key of caption.yaml as <see cref="ConfigOptions"/> lists it: its kind, default, range or choices, the
    /// cmdlet parameter that stands for it, and what it means. The reader's checks, the unknown-key warning, the
    /// about topic's table and the tests that keep cmdlet parameters in step are all derived from these.
    /// </summary>
    public sealed class ConfigOption
    {
        internal ConfigOption(string key, string kind, string shownDefault, string description)
        {
            Key = key;
            Property = string.Concat(Array.ConvertAll(key.Split('_'), word => char.ToUpperInvariant(word[0]) + word.Substring(1)));
            Kind = kind;
            ShownDefault = shownDefault;
            Description = description;
        }

        /// <summary>The key, as written in caption.yaml.</summary>
        public string Key { get; }

        /// <summary>
        /// The name of the property that holds the key's value, on <see cref="CaptionConfig"/> and on any settings
        /// object that takes it: the key in Pascal case (max_tokens, MaxTokens).
        /// </summary>
        public string Property { get; }

        /// <summary>text, path, integer, number, boolean, list, mapping, choice, or text or list.</summary>
        public string Kind { get; }

        /// <summary>The value when the key is absent: a long for an integer, a double for a number, a bool, a string; null when there is none to state.</summary>
        public object? Default { get; init; }

        /// <summary>The smallest value allowed, for integers and numbers.</summary>
        public decimal? Minimum { get; init; }

        /// <summary>The largest value allowed, for integers and numbers.</summary>
        public decimal? Maximum { get; init; }

        /// <summary>The values allowed, for a choice (any case).</summary>
        public IReadOnlyList<string> Choices { get; init; } = Array.Empty<string>();

        /// <summary>The default as people read it, e.g. "$env:VLMCAPTION_MODEL, else ''".</summary>
        public string ShownDefault { get; }

        /// <summary>The cmdlet parameter that overrides or stands for the key; empty when none does.</summary>
        public string Parameter { get; init; } = "";

        /// <summary>A switch that sets the key to false where it is typed (-NoStream for stream); empty when none does.</summary>
        public string NegatedBy { get; init; } = "";

        /// <summary>The cmdlets that have <see cref="Parameter"/>.</summary>
        public IReadOnlyList<string> Commands { get; init; } = Array.Empty<string>();

        /// <summary>What the key does, in a line.</summary>
        public string Description { get; }

        /// <inheritdoc />
        public override string ToString() => Key;
    }
}
