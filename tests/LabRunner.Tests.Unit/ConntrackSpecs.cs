using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>`conntrack` (issue 12): a tracked flow and the addresses its replies come from and go to.</summary>
public sealed class ConntrackSpecs
{
    private static string Lab(string expect) => $$"""
        lab: ct
        steps:
          - title: a namespace
            actions:
              - netns-add: n1
            expect:
              - {{expect}}
        """;

    [Fact]
    public void A_flows_original_and_reply_directions_are_read_from_conntrack_L()
    {
        // conntrack v1.4.7: a published port (DNAT) and a masqueraded ping (SNAT).
        const string Listing = """
            tcp      6 119 TIME_WAIT src=10.0.2.2 dst=10.0.2.1 sport=42714 dport=8080 src=172.16.100.101 dst=10.0.2.2 sport=80 dport=42714 [ASSURED] mark=0 use=1
            icmp     1 29 src=172.16.100.101 dst=10.0.2.2 type=8 code=0 id=17 src=10.0.2.2 dst=10.0.2.1 type=0 code=0 id=17 mark=0 use=1
            """;

        Assert.Equal(
        [
            new ConntrackExpectation.Flow("10.0.2.2", "10.0.2.1", "172.16.100.101", "10.0.2.2"),
            new ConntrackExpectation.Flow("172.16.100.101", "10.0.2.2", "10.0.2.2", "10.0.2.1"),
        ], ConntrackExpectation.Flows(Listing));
    }

    [Theory]
    [InlineData("conntrack: { protocol: sctp }", "unknown protocol 'sctp'")]
    [InlineData("conntrack: { protocol: icmp, dport: 80 }", "icmp has no ports")]
    [InlineData("conntrack: { dst: 10.0.0.1 }", "'protocol' is missing")]
    [InlineData("conntrack: { protocol: tcp, reply-src: 10.0.0.300 }", "'10.0.0.300' is not an IPv4 address")]
    public void A_mistake_is_refused_where_it_is_written(string expectation, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn(Lab(expectation)).Message);

    [Fact]
    public void The_CSharp_conntrack_is_the_YAML_one_and_reads_as_a_sentence()
    {
        var yaml = Scenarios.Load(Lab("conntrack: { protocol: tcp, dst: 10.0.2.1, dport: 8080, reply-src: 172.16.100.101 }"));
        var csharp = Authoring.Lab.Named("ct")
            .Step("a namespace", s => s.Netns("n1").Expect.Conntrack("tcp", dst: "10.0.2.1", dport: 8080, replySrc: "172.16.100.101"))
            .Build();

        Assert.Equal(yaml.Steps[0].Expectations[0] with { Span = SourceSpan.None }, csharp.Steps[0].Expectations[0] with { Span = SourceSpan.None });
        Assert.Equal("host tracks tcp to 10.0.2.1:8080, replies from 172.16.100.101", yaml.Steps[0].Expectations[0].Describe());
    }
}
