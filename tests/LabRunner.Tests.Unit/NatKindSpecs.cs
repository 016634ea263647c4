using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `masquerade` and `publish` (issue 12): sugar over iptables rules, so `plan` shows the real rules and teardown
/// deletes exactly them, in reverse order.
/// </summary>
public sealed class NatKindSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Lab(string actions) => $$"""
        lab: nat
        uplink: { name: ens3, address: 192.168.64.6/24 }
        steps:
          - title: a bridge
            actions:
              - bridge-add: br-0
          - title: the rules
            actions:
        {{actions}}
        """;

    private static async Task<(List<string> Actions, List<string> Teardown)> IptablesOfAsync(string yaml)
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(Scenarios.Load(yaml), state.Path, Ct);
        return ([.. plan.CommandsFor(CommandPurpose.Action).Where(c => c.Contains("iptables", StringComparison.Ordinal))],
            [.. plan.UndoCommands.Where(c => c.Contains("iptables", StringComparison.Ordinal))]);
    }

    [Fact]
    public async Task Masquerade_is_the_nat_POSTROUTING_rule_Docker_adds_and_is_deleted_exactly()
    {
        var (actions, teardown) = await IptablesOfAsync(Lab("      - masquerade: { source: 172.16.100.0/24, out: ens3 }"));

        Assert.Equal(["ip netns exec lr-test01 iptables -t nat -A POSTROUTING -s 172.16.100.0/24 -o ens3 -j MASQUERADE"], actions);
        Assert.Equal(["ip netns exec lr-test01 iptables -t nat -D POSTROUTING -s 172.16.100.0/24 -o ens3 -j MASQUERADE"], teardown);
    }

    [Fact]
    public async Task Masquerade_without_out_applies_to_every_link()
    {
        var (actions, _) = await IptablesOfAsync(Lab("      - masquerade: { source: 172.16.100.0/24 }"));

        Assert.Equal(["ip netns exec lr-test01 iptables -t nat -A POSTROUTING -s 172.16.100.0/24 -j MASQUERADE"], actions);
    }

    [Fact]
    public async Task Publish_is_DNAT_for_others_and_the_host_itself_and_FORWARD_both_ways()
    {
        var (actions, teardown) = await IptablesOfAsync(Lab("      - publish: { port: 8080, to: 172.16.100.101, to-port: 80 }"));

        Assert.Equal(
        [
            "ip netns exec lr-test01 iptables -t nat -A PREROUTING -p tcp -m addrtype --dst-type LOCAL --dport 8080 -j DNAT --to-destination 172.16.100.101:80",
            "ip netns exec lr-test01 iptables -t nat -A OUTPUT -p tcp '!' -d 127.0.0.0/8 -m addrtype --dst-type LOCAL --dport 8080 -j DNAT --to-destination 172.16.100.101:80",
            "ip netns exec lr-test01 iptables -t filter -I FORWARD 1 -d 172.16.100.101 -p tcp --dport 80 -j ACCEPT",
            "ip netns exec lr-test01 iptables -t filter -I FORWARD 1 -s 172.16.100.101 -p tcp --sport 80 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
        ], actions);
        Assert.Equal(actions.Select(a => a.Replace(" -A ", " -D ", StringComparison.Ordinal).Replace(" -I FORWARD 1 ", " -D FORWARD ", StringComparison.Ordinal)).Reverse(), teardown);
    }

    [Fact]
    public async Task Publish_defaults_to_the_same_port_over_tcp_and_takes_udp()
    {
        var (actions, _) = await IptablesOfAsync(Lab("      - publish: { port: 5353, to: 172.16.100.101, protocol: udp }"));

        Assert.Contains("ip netns exec lr-test01 iptables -t nat -A PREROUTING -p udp -m addrtype --dst-type LOCAL --dport 5353 -j DNAT --to-destination 172.16.100.101:5353", actions);
        Assert.Contains("ip netns exec lr-test01 iptables -t filter -I FORWARD 1 -d 172.16.100.101 -p udp --dport 5353 -j ACCEPT", actions);
    }

    [Theory]
    [InlineData("masquerade: { source: 172.16.100.0/24, out: eth9 }", "link 'eth9' does not exist in host at this point")]
    [InlineData("masquerade: { source: 172.16.100.300/24 }", "'172.16.100.300' is not an IPv4 address")]
    [InlineData("masquerade: { out: ens3 }", "'source' is missing")]
    [InlineData("publish: { port: 0, to: 172.16.100.101 }", "'port' must be a whole number from 1 to 65535, not '0'")]
    [InlineData("publish: { port: 80, to: 172.16.100.101, protocol: sctp }", "unknown protocol 'sctp'")]
    [InlineData("publish: { port: 80 }", "'to' is missing")]
    public void A_mistake_is_refused_where_it_is_written(string action, string message)
    {
        var error = Scenarios.ErrorIn(Lab("      - " + action));

        Assert.Equal(9, error.Span.Line);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void The_CSharp_kinds_are_the_YAML_ones()
    {
        var yaml = Scenarios.Load(Lab("""
                  - masquerade: { source: 172.16.100.0/24, out: ens3 }
                  - publish: { port: 8080, to: 172.16.100.101, to-port: 80 }
            """));
        var csharp = Authoring.Lab.Named("nat").WithUplink("ens3", "192.168.64.6/24")
            .Step("a bridge", s => s.Bridge("br-0"))
            .Step("the rules", s => s.Masquerade("172.16.100.0/24", @out: "ens3").Publish(8080, to: "172.16.100.101", toPort: 80))
            .Build();

        Assert.Equal(yaml.Steps[1].Actions.Select(a => a with { Span = SourceSpan.None }), csharp.Steps[1].Actions.Select(a => a with { Span = SourceSpan.None }));
    }
}
