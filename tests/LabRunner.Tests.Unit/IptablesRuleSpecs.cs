using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `iptables-rule` (issue 12), one file: one rule, deleted exactly at teardown; a user chain made on its first rule and
/// removed after its rules.
/// </summary>
public sealed class IptablesRuleSpecs
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
        Assert.Contains("ip netns exec lr-test01 iptables -t filter -D FORWARD -s 172.16.100.0/24 -j ACCEPT", plan.UndoCommands);
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
        var teardown = plan.UndoCommands.Where(c => c.Contains("iptables", StringComparison.Ordinal)).ToList();
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
}
