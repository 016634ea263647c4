using LabRunner.Loading;

namespace LabRunner.Tests.Unit;

public sealed class DurationsSpecs
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0s", 0)]
    [InlineData("1m", 60_000)]
    [InlineData("0.5m", 30_000)]
    [InlineData("60m", 3_600_000)]
    [InlineData("3600s", 3_600_000)]
    [InlineData("3600000ms", 3_600_000)]
    public void A_duration_is_a_number_and_a_unit(string text, int milliseconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("5")]
    [InlineData("5 s")]
    [InlineData(" 5s")]
    [InlineData("5sec")]
    [InlineData("1h")]
    [InlineData("s")]
    [InlineData("ms")]
    [InlineData("-1s")]
    [InlineData("+1s")]
    [InlineData("61m")]
    [InlineData("3601s")]
    [InlineData("1e3ms")]
    [InlineData("NaNs")]
    [InlineData("Infinitys")]
    [InlineData("1,5s")]
    [InlineData("")]
    public void Anything_else_is_not_a_duration(string text) => Assert.False(Durations.TryParse(text, out _));
}
