using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// Cross-host labs (scenarios/cross-host: host-gw routing and a VXLAN overlay between two host namespaces) and the
/// `vxlan-add` action they need.
/// </summary>
public sealed class CrossHostSpecs
{
    private static string CrossHost(string file) => Path.Combine(Repo.Root, "scenarios", "cross-host", file);

    private const string Tunnel = """
        lab: t
        steps:
          - title: s
            actions:
              - netns-add: h
              - veth-add: { name: eth0, in: h, peer: eth1 }
              - vxlan-add: { in: h, name: vxlan0, id: 42, remote: 10.0.0.2, local: 10.0.0.1, dev: eth0 }
        """;

    [Fact]
    public void A_vxlan_tunnel_end_has_its_id_endpoints_underlay_and_the_IANA_port_by_default()
    {
        var vxlan = Scenarios.Load(Tunnel).AllActions.OfType<VxlanAdd>().Single();

        Assert.Equal(new VxlanAdd("vxlan0", 42, "10.0.0.2", "10.0.0.1", "eth0", 4789, Place.Netns("h")), vxlan with { Span = SourceSpan.None });
    }

    [Theory]
    [InlineData("id: 42", "id: 0", "'id' must be a whole number from 1 to 16777215, not '0'")]
    [InlineData("id: 42, ", "", "'id' is missing")]
    [InlineData("remote: 10.0.0.2", "remote: 10.0.0.256", "'10.0.0.256' is not an IPv4 address")]
    [InlineData("dev: eth0", "dev: eth9", "link 'eth9' does not exist in netns h at this point")]
    public void A_vxlan_tunnel_end_that_cannot_be_made_is_refused_with_its_position(string right, string wrong, string message)
    {
        var error = Scenarios.ErrorIn(Tunnel.Replace(right, wrong));

        Assert.StartsWith(message, error.Message);
        Assert.Equal(7, error.Span.Line);
    }

    [Fact]
    public void The_same_tunnel_end_written_in_CSharp_is_the_same_action()
    {
        var csharp = Lab.Named("t").Step("s", s => s
                .Netns("h")
                .Veth("eth0", "eth1").In("h")
                .Vxlan("vxlan0", 42, remote: "10.0.0.2", local: "10.0.0.1", dev: "eth0").In("h"))
            .Build();

        Assert.Equal(ModelJson.WithoutSpans(Scenarios.Load(Tunnel).AllActions.Last()), ModelJson.WithoutSpans(csharp.AllActions.Last()));
    }

    [Theory]
    [InlineData("host-gw.yaml")]
    [InlineData("vxlan.yaml")]
    public async Task The_plan_of_each_cross_host_lab_matches_its_golden_file(string file)
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(ScenarioLoader.LoadFile(CrossHost(file)), state.Path, TestContext.Current.CancellationToken);

        Golden.Verify($"cross-host-{Path.GetFileNameWithoutExtension(file)}.plan.txt", plan.ToText());
    }

    [Fact]
    public async Task The_vxlan_lab_makes_both_tunnel_ends_with_ip_link_and_deletes_them_at_teardown()
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(ScenarioLoader.LoadFile(CrossHost("vxlan.yaml")), state.Path, TestContext.Current.CancellationToken);

        Assert.Contains($"ip -n lr-{Plan.LabId}-host-a link add name vxlan0 type vxlan id 42 remote 10.0.0.2 local 10.0.0.1 dev eth0 dstport 4789",
            plan.CommandsFor(CommandPurpose.Action));
        Assert.Contains($"ip -n lr-{Plan.LabId}-host-b link delete dev vxlan0", plan.UndoCommands);
    }

    [Fact]
    public void The_vxlan_labs_topology_shows_one_subnet_on_two_hosts_joined_by_tunnel_ends()
    {
        var mermaid = Reporting.LabTopology.Of(ScenarioLoader.LoadFile(CrossHost("vxlan.yaml"))).ToMermaid();

        Assert.Contains("n_netns_host_a_vxlan0[\"vxlan0 (vxlan 42)\"]", mermaid);
        Assert.Contains("n_netns_host_a_vxlan0 -->|port of| n_netns_host_a_br0", mermaid);
        Assert.Contains("n_netns_host_a_eth0 <-->|veth| n_netns_host_b_eth0", mermaid);
    }
}
