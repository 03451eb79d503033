using System;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;

namespace VlmCaption.Config
{
    /// <summary>
    /// The commented caption.yaml that New-VlmCaptionConfig writes: the original tool's defaults and VlmCaption's keys.
    /// Its words live in caption.template.yaml; a key written "key: {default}" there takes the catalogue's default
    /// (<see cref="ConfigOptions"/>), so the template never states a default of its own that could drift.
    /// </summary>
    public static class ConfigTemplate
    {
        private static readonly Regex DefaultLine = new Regex(@"^(\w+): \{default\}$", RegexOptions.Multiline | RegexOptions.CultureInvariant);

        /// <summary>The file's text.</summary>
        public static string Text { get; } = Fill(ReadResource());

        private static string ReadResource()
        {
            using Stream stream = typeof(ConfigTemplate).Assembly.GetManifestResourceStream("VlmCaption.Config.caption.template.yaml")
                ?? throw new InvalidOperationException("The caption.yaml template is missing from the assembly.");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }

        private static string Fill(string template) => DefaultLine.Replace(template, line =>
        {
            object value = ConfigOptions.Find(line.Groups[1].Value).Default ?? throw new InvalidOperationException($"'{line.Groups[1].Value}' has no default to write.");
            string written = value is bool flag ? (flag ? "true" : "false") : Convert.ToString(value, CultureInfo.InvariantCulture)!;
            return $"{line.Groups[1].Value}: {written}";
        });
    }
}
