using VlmCaption.Conversation;
using Xunit;

namespace VlmCaption.Tests;

public class AnswerCleanerTests
{
    [Theory]
    [InlineData("A cat.", "A cat.")]
    [InlineData("<think>hmm\nmaybe a dog</think>\nA cat.", "A cat.")]
    [InlineData("<think>a</think>A <think>b</think>cat.", "A cat.")]
    [InlineData("reasoning without an opening tag</think>  A cat.  ", "A cat.")]
    [InlineData("<|begin_of_box|>A cat.<|end_of_box|>", "A cat.")]
    [InlineData("  \n A cat. \n ", "A cat.")]
    [InlineData("<think>only thinking</think>", "")]
    [InlineData(null, "")]
    [InlineData("<think>a<think>b</think>c", "c")]
    [InlineData("<think>never closed. A cat.", "<think>never closed. A cat.")]
    [InlineData("A <think>b</think>cat <think>open", "A cat <think>open")]
    public void Clean_removes_reasoning_and_box_tokens(string? answer, string expected) =>
        Assert.Equal(expected, AnswerCleaner.Clean(answer));

    [Fact]
    public async Task A_megabyte_of_unclosed_think_tags_is_cleaned_without_hanging()
    {
        // Quadratic cleaning took over 200 s for this; the bound only guards against a hang.
        string answer = string.Concat(Enumerable.Repeat("<think>", 150_000)) + "A cat.";
        var cleaning = Task.Run(() => AnswerCleaner.Clean(answer));
        Assert.Same(cleaning, await Task.WhenAny(cleaning, Task.Delay(TimeSpan.FromSeconds(60))));
        Assert.Equal(answer, await cleaning);
    }
}
