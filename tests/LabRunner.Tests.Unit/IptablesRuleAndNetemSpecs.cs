using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The first curriculum kinds (issue 12), each one file: `iptables-rule` (one rule, deleted exactly at teardown; a user
/// chain made on its first rule and removed after its rules) and `netem` (tc netem on a link, the qdisc deleted).
/// </summary>
public sealed class IptablesRuleAndNetemSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Lab(string actions) => $$"""
        lab: curriculum
        steps:
          - title: a namespace and a veth pair
            actions:
              - netns-add: n1
              - veth-add: { name: veth-1, peer: veth-2, peer-in: n1 }
          - title: the change
            actions:
        {{actions}}
        """;

    [Fact]
    public async Task An_iptables_rule_is_appended_and_its_exact_deletion_journalled_first()
    {
        using var state = new TempDirectory();
        var scenario = Scenarios.Load(Lab("      - iptables-rule: { chain: FORWARD, rule: [-s, 172.16.100.0/24, -j, ACCEPT] }"));

        var plan = await Plan.MakeAsync(scenario, state.Path, Ct);

        Assert.Contains("ip netns exec lr-test01 iptables -t filter -A FORWARD -s 172.16.100.0/24 -j ACCEPT", plan.CommandsFor(CommandPurpose.Action));
        Assert.Contains("ip netns exec lr-test01 iptables -t filter -D FORWARD -s 172.16.100.0/24 -j ACCEPT", plan.CommandsFor(CommandPurpose.Teardown));
    }

    [Fact]
    public async Task A_user_chain_is_made_on_its_first_rule_only_and_removed_after_its_rules()
    {
        using var state = new TempDirectory();
        var scenario = Scenarios.Load(Lab("""
                  - iptables-rule: { chain: LAB-POLICY, rule: [-p, icmp, -j, DROP] }
                  - iptables-rule: { chain: LAB-POLICY, rule: [-p, tcp, -j, ACCEPT], insert: true }
                  - iptables-rule: { chain: FORWARD, rule: [-j, LAB-POLICY] }
            """));

        var plan = await Plan.MakeAsync(scenario, state.Path, Ct);

        var actions = plan.CommandsFor(CommandPurpose.Action).Where(c => c.Contains("iptables", StringComparison.Ordinal)).ToList();
        Assert.Equal(
        [
            "ip netns exec lr-test01 iptables -t filter -N LAB-POLICY",
            "ip netns exec lr-test01 iptables -t filter -A LAB-POLICY -p icmp -j DROP",
            "ip netns exec lr-test01 iptables -t filter -I LAB-POLICY 1 -p tcp -j ACCEPT",
            "ip netns exec lr-test01 iptables -t filter -A FORWARD -j LAB-POLICY",
        ], actions);
        var teardown = plan.CommandsFor(CommandPurpose.Teardown).Where(c => c.Contains("iptables", StringComparison.Ordinal)).ToList();
        Assert.Equal("ip netns exec lr-test01 iptables -t filter -X LAB-POLICY", teardown[3]); // last: the chain, once empty
    }

    [Theory]
    [InlineData("[-F]", "'-F' is an iptables command, not part of a rule")]
    [InlineData("[-A, INPUT, -j, DROP]", "'-A' is an iptables command, not part of a rule")]
    [InlineData("[--table=nat, -j, ACCEPT]", "'--table=nat' is an iptables command, not part of a rule")]
    [InlineData("[]", "'rule' is empty")]
    public void A_rule_that_is_an_iptables_command_is_refused_where_it_is_written(string rule, string message)
    {
        var error = Scenarios.ErrorIn(Lab($"      - iptables-rule: {{ chain: FORWARD, rule: {rule} }}"));

        error.At(9, 48); // the rule list
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_CSharp_iptables_rule_is_the_YAML_one()
    {
        var yaml = Scenarios.Load(Lab("      - iptables-rule: { table: nat, chain: POSTROUTING, rule: [-s, 10.0.0.0/24, -j, MASQUERADE], in: n1 }"));
        var csharp = Authoring.Lab.Named("curriculum")
            .Step("a namespace and a veth pair", s => s.Netns("n1").Veth("veth-1", "veth-2", peerIn: "n1"))
            .Step("the change", s => s.IptablesRule("POSTROUTING", ["-s", "10.0.0.0/24", "-j", "MASQUERADE"], table: "nat").In("n1"))
            .Build();

        Assert.Equal(yaml.Steps[1].Actions[0] with { Span = SourceSpan.None }, csharp.Steps[1].Actions[0] with { Span = SourceSpan.None });
    }

    [Fact]
    public async Task Netem_adds_a_root_qdisc_with_times_in_milliseconds_and_deletes_it_at_teardown()
    {
        using var state = new TempDirectory();
        var scenario = Scenarios.Load(Lab("      - netem: { dev: veth-1, delay: 0.1s, jitter: 10ms, loss: 0.5%, duplicate: 1%, reorder: 25%, rate: 1mbit }"));

        var plan = await Plan.MakeAsync(scenario, state.Path, Ct);

        Assert.Contains("ip netns exec lr-test01 tc qdisc add dev veth-1 root netem delay 100ms 10ms loss 0.5% duplicate 1% reorder 25% rate 1mbit",
            plan.CommandsFor(CommandPurpose.Action));
        Assert.Contains("ip netns exec lr-test01 tc qdisc del dev veth-1 root", plan.CommandsFor(CommandPurpose.Teardown));
    }

    [Theory]
    [InlineData("{ dev: veth-1 }", "netem changes nothing")]
    [InlineData("{ dev: veth-1, loss: 1 }", "'loss' must be a percentage from 0% to 100%, like 1% or 0.5%, not '1'")]
    [InlineData("{ dev: veth-1, loss: 101% }", "'loss' must be a percentage from 0% to 100%, like 1% or 0.5%, not '101%'")]
    [InlineData("{ dev: veth-1, jitter: 10ms }", "'jitter' needs 'delay'")]
    [InlineData("{ dev: veth-1, rate: fast }", "'rate' must be a rate tc reads, like 1mbit or 500kbit, not 'fast'")]
    [InlineData("{ dev: veth-1, delay: soon }", "'delay' must be a duration such as 500ms, 5s or 1m, not 'soon'")]
    public void A_wrong_netem_is_refused_with_the_shared_messages(string fields, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn(Lab($"      - netem: {fields}")).Message);

    [Fact]
    public void Netem_on_a_link_that_is_not_there_is_a_flow_error()
    {
        var error = Scenarios.ErrorIn(Lab("      - netem: { dev: veth-2, delay: 10ms }"));

        Assert.Equal("link 'veth-2' does not exist in host at this point", error.Message);
        Assert.Equal("it is in netns n1; add 'in: n1'", error.Hint);
    }
}
