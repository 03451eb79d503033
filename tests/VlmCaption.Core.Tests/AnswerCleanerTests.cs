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
    public void Clean_removes_reasoning_and_box_tokens(string? answer, string expected) =>
        Assert.Equal(expected, AnswerCleaner.Clean(answer));
}
