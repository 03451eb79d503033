using System.Text;
using VlmCaption.Output;
using Xunit;

namespace VlmCaption.Core.Tests;

public class ShardTests
{
    // Names a macOS client gives decomposed (NFD) and a Linux machine as written (NFC).
    [Theory]
    [InlineData("café.png")]
    [InlineData("photos/Zürich/straße.jpg")]
    [InlineData("naïve résumé.webp")]
    [InlineData("한국어.png")]
    [InlineData("Å/ñ/ç.png")]
    [InlineData("crème brûlée 01.jpg")]
    public void A_name_composed_or_decomposed_goes_to_the_same_part(string name)
    {
        string composed = name.Normalize(NormalizationForm.FormC);
        string decomposed = name.Normalize(NormalizationForm.FormD);
        Assert.NotEqual(composed, decomposed);
        for (int count = 2; count <= 5; count++)
        {
            Assert.Equal(Shard.PartOf(composed, count), Shard.PartOf(decomposed, count));
        }
    }

    [Fact]
    public void Backslashes_and_slashes_are_one_path()
    {
        Assert.Equal(Shard.PartOf("a/b/c.png", 7), Shard.PartOf("a\\b\\c.png", 7));
    }
}
