using VlmCaption.Transport;
using Xunit;

namespace VlmCaption.Tests;

public class RetryDelayTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Retry_after_seconds_is_honoured() =>
        Assert.Equal(TimeSpan.FromSeconds(7), RetryDelay.Next(0, TimeSpan.FromSeconds(1), RetryDelay.Parse(null, "7", Now)));

    [Fact]
    public void Retry_after_ms_wins_over_seconds() =>
        Assert.Equal(TimeSpan.FromMilliseconds(250), RetryDelay.Parse("250", "7", Now));

    [Fact]
    public void Retry_after_http_date_is_read() =>
        Assert.Equal(TimeSpan.FromSeconds(30), RetryDelay.Parse(null, "Thu, 01 Jan 2026 12:00:30 GMT", Now));

    [Theory]
    [InlineData(null, "1e20")]
    [InlineData(null, "Infinity")]
    [InlineData("1e300", null)]
    [InlineData(null, "99999999999999999999999")]
    public void Huge_retry_after_is_clamped_to_the_longest_wait(string? ms, string? seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(60), RetryDelay.Next(0, TimeSpan.FromSeconds(1), RetryDelay.Parse(ms, seconds, Now)));

    [Fact]
    public void Garbage_retry_after_is_ignored() => Assert.Null(RetryDelay.Parse("x", "soon", Now));

    [Theory]
    [InlineData(0, 750, 1250)]
    [InlineData(1, 1500, 2500)]
    [InlineData(3, 6000, 10000)]
    [InlineData(30, 60000, 60000)]
    public void Backoff_grows_exponentially_with_jitter_and_a_cap(int attempt, double minMs, double maxMs)
    {
        for (int i = 0; i < 50; i++)
        {
            double ms = RetryDelay.Next(attempt, TimeSpan.FromSeconds(1), null).TotalMilliseconds;
            Assert.InRange(ms, minMs, maxMs);
        }
    }

    [Theory]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(400, false)]
    [InlineData(401, false)]
    [InlineData(404, false)]
    public void Transient_statuses(int status, bool transient) => Assert.Equal(transient, RetryDelay.IsTransientStatus(status));
}
