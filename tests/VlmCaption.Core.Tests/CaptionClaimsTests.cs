using VlmCaption.Output;
using Xunit;

namespace VlmCaption.Tests;

/// <summary>Claims on real files: of two runs claiming one image at the same moment, exactly one wins.</summary>
public class CaptionClaimsTests
{
    [Fact]
    public async Task Two_claims_at_the_same_moment_never_both_win()
    {
        using var folder = new TempFolder();
        using var first = new CaptionClaims();
        using var second = new CaptionClaims();
        int bothWon = 0, noneWon = 0;
        for (int i = 0; i < 300; i++)
        {
            string image = Path.Combine(folder.Path, $"race{i}.png");
            using var start = new Barrier(2);
            string? a = null, b = null;
            var one = Task.Run(() => { start.SignalAndWait(); a = first.TryClaim(image); });
            var two = Task.Run(() => { start.SignalAndWait(); b = second.TryClaim(image); });
            await Task.WhenAll(one, two);
            bothWon += a is null && b is null ? 1 : 0;
            noneWon += a is not null && b is not null ? 1 : 0;
        }

        Assert.Equal(0, bothWon);
        Assert.Equal(0, noneWon);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
    }

    [Fact]
    public void A_claim_let_go_can_be_taken_and_a_held_one_names_its_holder()
    {
        using var folder = new TempFolder();
        string image = Path.Combine(folder.Path, "a.png");
        using var first = new CaptionClaims();
        using var second = new CaptionClaims();
        Assert.Null(first.TryClaim(image));
        Assert.Contains("process", second.TryClaim(image));
        first.Release(image);
        Assert.Null(second.TryClaim(image));
    }
}
