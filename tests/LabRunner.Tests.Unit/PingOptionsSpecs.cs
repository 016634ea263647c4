using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `ping` gains `size` and `rtt-below` (issue 12). The command (`busybox ping -c N -s SIZE …`) is run by the
/// curriculum's port-publishing lab (CurriculumLabSpecs), which pings with both.
/// </summary>
public sealed class PingOptionsSpecs
{
    private static string Lab(string ping) => $$"""
        lab: ping
        steps:
          - title: a namespace
            actions:
              - netns-add: n1
            expect:
              - {{ping}}
        """;

    [Theory]
    [InlineData("PING 10.0.0.1 (10.0.0.1): 56 data bytes\n64 bytes from 10.0.0.1: seq=0 ttl=64 time=0.052 ms\n\n--- 10.0.0.1 ping statistics ---\n1 packets transmitted, 1 packets received, 0% packet loss\nround-trip min/avg/max = 0.041/0.052/0.070 ms\n", 0.052)]
    [InlineData("rtt min/avg/max/mdev = 20.114/20.250/20.386/0.136 ms\n", 20.25)] // iputils
    [InlineData("1 packets transmitted, 0 packets received, 100% packet loss\n", null)]
    public void The_average_round_trip_is_read_from_pings_summary(string stdout, double? average) =>
        Assert.Equal(average, PingExpectation.AverageRtt(stdout));

    [Theory]
    [InlineData("ping: { from: n1, to: 10.0.0.1, size: 70000 }", "'size' must be a whole number from 0 to 65507, not '70000'")]
    [InlineData("ping: { from: n1, to: 10.0.0.1, succeeds: false, rtt-below: 50ms }", "'rtt-below' needs answers")]
    public void A_mistake_is_refused_where_it_is_written(string ping, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn(Lab(ping)).Message);

    [Fact]
    public void The_CSharp_options_are_the_YAML_ones()
    {
        var yaml = Scenarios.Load(Lab("ping: { from: n1, to: 10.0.0.1, size: 1000, rtt-below: 50ms }"));
        var csharp = Authoring.Lab.Named("ping")
            .Step("a namespace", s => s.Netns("n1").Expect.Ping(from: "n1", to: "10.0.0.1").Size(1000).RttBelow(TimeSpan.FromMilliseconds(50)))
            .Build();

        var ping = Assert.IsType<PingExpectation>(yaml.Steps[0].Expectations[0]);
        Assert.Equal((1000, TimeSpan.FromMilliseconds(50)), (ping.Size, ping.RttBelow));
        Assert.Equal(ping with { Span = SourceSpan.None }, csharp.Steps[0].Expectations[0] with { Span = SourceSpan.None });
        Assert.Equal("ping from n1 to 10.0.0.1 with 1000 data bytes succeeds in under 50 ms", ping.Describe());
    }
}
