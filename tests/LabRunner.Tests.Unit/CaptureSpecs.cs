using LabRunner.Authoring;
using LabRunner.Engine;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The capture expectation (the article's step 3.5, tcpdump on br-0, veth-4 and veth-2): how it is written in YAML
/// and C#, what the loader refuses, and libpcap's verdict on filters before a lab starts.
/// </summary>
public sealed class CaptureSpecs
{
    private const string Lab = """
        lab: capture
        steps:
          - title: t
            actions:
              - netns-add: n1
              - container-run: c1
            expect:
              - capture:
                  while: { ping: { from: c1, to: 10.0.0.1, count: 3 } }
                  on:
                    - { link: br-0, sees: ["icmp[icmptype] == icmp-echo", arp] }
                    - { link: veth-2, in: c1, never: [icmp] }
                    - { link: eth0, in: n1, sees: [arp], never: ["udp port 53"] }
                  within: 8s
        """;

    [Fact]
    public void A_capture_names_its_traffic_and_for_each_link_the_filters_it_must_and_must_not_match()
    {
        var capture = Assert.IsType<CaptureExpectation>(Scenarios.Load(Lab).Steps[0].Expectations.Single());

        Assert.Equal(new CaptureTraffic(Place.Container("c1"), "10.0.0.1", 3), capture.While);
        Assert.Equal(["br-0", "veth-2", "eth0"], capture.On.Select(p => p.Link));
        Assert.Equal([Place.Host, Place.Container("c1"), Place.Netns("n1")], capture.On.Select(p => p.In));
        Assert.Equal(["icmp[icmptype] == icmp-echo", "arp"], capture.On[0].Sees);
        Assert.Empty(capture.On[0].Never);
        Assert.Equal(["icmp"], capture.On[1].Never);
        Assert.Equal(["udp port 53"], capture.On[2].Never);
        Assert.Equal(TimeSpan.FromSeconds(8), capture.Within);
        Assert.Equal(new SourceSpan(Scenarios.File, 12, 15), capture.On[1].Span);
        Assert.Equal(
            "while c1 pings 10.0.0.1: br-0 sees 'icmp[icmptype] == icmp-echo', 'arp'; veth-2 in c1 never 'icmp'; eth0 in n1 sees 'arp' and never 'udp port 53'",
            capture.Describe());
    }

    [Fact]
    public void The_ping_of_a_capture_sends_two_echo_requests_unless_told()
    {
        var capture = (CaptureExpectation)Scenarios.Load(Lab.Replace(", count: 3", "")).Steps[0].Expectations.Single();

        Assert.Equal(2, capture.While.Count);
    }

    [Fact]
    public void A_capture_without_links_or_with_an_unknown_key_is_refused_where_it_is_written()
    {
        var noLinks = Scenarios.ErrorIn(Lab[..Lab.IndexOf("          on:", StringComparison.Ordinal)] + "          on: []\n");
        Assert.Equal("'on' must be a non-empty list of links to capture on", noLinks.Message);
        noLinks.At(10, 15);

        var typo = Scenarios.ErrorIn(Lab.Replace("never: [\"udp port 53\"]", "nevr: [\"udp port 53\"]"));
        Assert.Equal("unknown key 'nevr' in a capture point", typo.Message);
        Assert.Equal("did you mean 'never'?", typo.Hint);
    }

    [Fact]
    public void The_same_capture_written_in_CSharp_is_the_same_expectation()
    {
        var yaml = Scenarios.Load(Lab).Steps[0].Expectations.Single();
        var csharp = Authoring.Lab.Named("capture")
            .Step("t", s => s
                .Netns("n1")
                .Container("c1")
                .Expect.Capture(pingFrom: "c1", pingTo: "10.0.0.1", pingCount: 3, on:
                [
                    new CaptureOn("br-0", Sees: ["icmp[icmptype] == icmp-echo", "arp"]),
                    new CaptureOn("veth-2", In: "c1", Never: ["icmp"]),
                    new CaptureOn("eth0", In: "n1", Sees: ["arp"], Never: ["udp port 53"]),
                ]).Within(TimeSpan.FromSeconds(8)))
            .Build().Steps[0].Expectations.Single();

        Assert.Equal(ModelJson.WithoutSpans(yaml), ModelJson.WithoutSpans(csharp));
    }

    [Fact]
    public void A_CSharp_capture_point_without_filters_is_refused()
    {
        var builder = Authoring.Lab.Named("bad").Step("s", s => s
            .Container("c1")
            .Expect.Capture(pingFrom: "c1", pingTo: "10.0.0.1", on: [new CaptureOn("eth0", In: "c1")]));

        var error = Assert.Single(Assert.Throws<ScenarioInvalidException>(() => builder.Build()).Errors);
        Assert.Equal("the capture on 'eth0' needs 'Sees' or 'Never'", error.Message);
    }

    [Fact]
    public void A_capture_needs_tcpdump_on_the_machine()
    {
        using var bin = new TempDirectory();
        var scenario = Scenarios.Load(Lab);

        var problems = EnvironmentCheck.Problems(scenario, searchPath: bin.Path);

        Assert.Contains(problems, p => p.StartsWith("missing tools:", StringComparison.Ordinal) && p.Contains("tcpdump", StringComparison.Ordinal)
            && p.Contains("apt-get install -y", StringComparison.Ordinal));
        Assert.DoesNotContain(EnvironmentCheck.Problems(Scenarios.Load("lab: x\nsteps:\n  - title: t\n    actions: [ { netns-add: n1 } ]\n"), searchPath: bin.Path),
            p => p.Contains("tcpdump", StringComparison.Ordinal));
    }

    /// <summary>libpcap is the judge of a filter: run only where tcpdump is installed (it is wherever labs run).</summary>
    [Fact]
    public async Task A_filter_libpcap_cannot_compile_is_a_scenario_error_at_its_capture_point()
    {
        Assert.SkipWhen(EnvironmentCheck.FindOnPath("tcpdump") is null, "tcpdump is not installed");
        var scenario = Scenarios.Load(Lab.Replace("never: [icmp]", "never: [\"icmp and\"]"));

        var errors = await CaptureFilters.CheckAsync(scenario, ct: TestContext.Current.CancellationToken);

        var error = Assert.Single(errors);
        error.At(12, 15);
        Assert.StartsWith("pcap filter 'icmp and' does not compile: ", error.Message);
        Assert.Empty(await CaptureFilters.CheckAsync(Scenarios.Load(Lab), ct: TestContext.Current.CancellationToken));
    }
}
