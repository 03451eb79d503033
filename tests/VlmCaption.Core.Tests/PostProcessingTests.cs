using VlmCaption.Output;
using Xunit;

namespace VlmCaption.Tests;

public class PostProcessingTests
{
    private static string Apply(CaptionConfig rules, string caption) => new PostProcessing(rules).Apply(caption);

    [Fact]
    public void Replacements_apply_in_order_then_phrases_are_stripped_ignoring_case()
    {
        var rules = new CaptionConfig
        {
            Replacements = [new() { Pattern = "^(The|This) image (shows|depicts) ", Replacement = "" }, new() { Pattern = @"\bcat\b", Replacement = "kitten" }],
            StripPhrases = ["IN THE FOREGROUND"],
            Tidy = true,
        };
        Assert.Equal("A kitten sits on a mat.", Apply(rules, "The image shows A cat sits in the foreground on a mat ."));
    }

    [Fact]
    public void Tag_lists_are_trimmed_deduplicated_cleaned_and_rejoined()
    {
        var rules = new CaptionConfig { TagSeparator = ", ", TagUnderscores = true, DropTags = ["Watermark"] };
        Assert.Equal("cat, long hair, outdoors", Apply(rules, " cat,long_hair , cat, watermark,, outdoors, Cat "));
    }

    [Theory]
    [InlineData("One two three. Four five six seven eight.", 6, "One two three.")]
    [InlineData("One two three four five six seven eight.", 5, "One two three four five")]
    [InlineData("Short.", 5, "Short.")]
    [InlineData("A, b, c, d, e, f", 3, "A, b, c")]
    public void The_word_limit_cuts_at_a_sentence_end_when_one_is_near(string caption, int maxWords, string expected) =>
        Assert.Equal(expected, Apply(new CaptionConfig { MaxWords = maxWords }, caption));

    [Theory]
    [InlineData("A  cat ,sitting ..  on a mat ,, outside", "A cat,sitting. on a mat, outside")]
    [InlineData("  , leading comma\n\n\nsecond line  ", "leading comma\nsecond line")]
    public void Tidying_collapses_spaces_and_doubled_punctuation(string caption, string expected) =>
        Assert.Equal(expected, PostProcessing.Tidy(caption));

    [Fact]
    public void A_pattern_that_backtracks_without_end_fails_instead_of_hanging()
    {
        var rules = new CaptionConfig { Replacements = [new() { Pattern = "(a+)+$", Replacement = "" }] };
        var e = Assert.Throws<CaptionException>(() => Apply(rules, new string('a', 40) + "!"));
        Assert.Equal("PostProcessingFailed", e.ErrorId);
    }

    [Fact]
    public void The_rules_come_from_caption_yaml_and_a_bad_pattern_is_a_config_error()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "caption.yaml");
        File.WriteAllText(path, "prompts: [a]\nreplacements:\n  - pattern: '^The image shows '\n    replacement: ''\nstrip_phrases: [vibrant]\ntag_separator: ', '\nmax_words: 40\ntidy: true\n");
        CaptionConfig config = Config.CaptionConfigReader.Read(path, out IReadOnlyList<string> warnings, _ => null);
        Assert.Empty(warnings);
        Assert.Equal("^The image shows ", Assert.Single(config.Replacements).Pattern);
        Assert.Equal(", ", config.TagSeparator);
        Assert.Equal(40, config.MaxWords);
        Assert.Equal("1 replacement, 1 phrase stripped, tags split on ',', at most 40 words, tidied", new PostProcessing(config).Describe());

        File.WriteAllText(path, "prompts: [a]\nreplacements:\n  - pattern: '(unclosed'\n");
        var e = Assert.Throws<CaptionException>(() => Config.CaptionConfigReader.Read(path, out _, _ => null));
        Assert.Contains("line 3", e.Message);
        Assert.Contains("is not a regular expression", e.Message);
    }
}
