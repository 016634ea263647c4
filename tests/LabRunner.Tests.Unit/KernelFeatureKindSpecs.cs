using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `vlan-add`, `ipvlan-add` and `netem` (issue 12): kinds whose kernel support is optional. Their commands and undo,
/// their mistakes, and the environment check that probes the kernel before anything runs (exit 3 with the fix).
/// </summary>
public sealed class KernelFeatureKindSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Lab(string actions) => $$"""
        lab: kernel-features
        uplink: { name: ens3, address: 192.168.64.6/24 }
        steps:
          - title: links
            actions:
              - container-run: c1
              - veth-add: { name: v0, peer: eth0, peer-in: c1 }
        {{actions}}
        """;

    [Fact]
    public async Task A_vlan_and_an_ipvlan_are_made_on_their_parent_and_deleted_at_teardown()
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(Scenarios.Load(Lab("""
                  - vlan-add: { name: v0.10, link: v0, id: 10 }
                  - ipvlan-add: { name: iv1, link: ens3, mode: l3 }
            """)), state.Path, Ct);

        var actions = plan.CommandsFor(CommandPurpose.Action);
        Assert.Contains("ip -n lr-test01 link add link v0 name v0.10 type vlan id 10", actions);
        Assert.Contains("ip -n lr-test01 link add link ens3 name iv1 type ipvlan mode l3", actions);
        var teardown = plan.UndoCommands;
        Assert.Contains("ip -n lr-test01 link delete dev v0.10", teardown);
        Assert.Contains("ip -n lr-test01 link delete dev iv1", teardown);
    }

    [Fact]
    public async Task Netem_adds_a_root_qdisc_with_the_settings_in_tcs_order_and_deletes_it_at_teardown()
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(Scenarios.Load(Lab("""
                  - netem: { link: v0, rate: 1mbit, loss: 0.5%, jitter: 5ms, delay: 100ms, reorder: 25%, duplicate: 1% }
            """)), state.Path, Ct);

        Assert.Contains("ip netns exec lr-test01 tc qdisc add dev v0 root netem delay 100ms 5ms loss 0.5% duplicate 1% reorder 25% rate 1mbit",
            plan.CommandsFor(CommandPurpose.Action));
        Assert.Contains("ip netns exec lr-test01 tc qdisc del dev v0 root", plan.UndoCommands);
    }

    [Theory]
    [InlineData("vlan-add: { name: v0.10, link: v0, id: 4095 }", "'id' must be a whole number from 1 to 4094, not '4095'")]
    [InlineData("vlan-add: { name: v0.10, link: eth9, id: 10 }", "link 'eth9' does not exist in host at this point")]
    [InlineData("vlan-add: { name: v0.10, link: v0 }", "'id' is missing")]
    [InlineData("ipvlan-add: { name: iv1, link: ens3, mode: bridge }", "unknown ipvlan mode 'bridge'")]
    [InlineData("netem: { link: v0 }", "netem changes nothing")]
    [InlineData("netem: { link: v0, loss: 101% }", "'loss' must be a percentage from 0% to 100%, e.g. 10% or 0.5%, not '101%'")]
    [InlineData("netem: { link: v0, loss: ten }", "'loss' must be a percentage from 0% to 100%, e.g. 10% or 0.5%, not 'ten'")]
    [InlineData("netem: { link: v0, rate: fast }", "'rate' must be a rate as tc writes it, e.g. 1mbit, 500kbit or 10gbit, not 'fast'")]
    [InlineData("netem: { link: v0, jitter: 5ms }", "'jitter' varies a delay")]
    [InlineData("netem: { link: v0, reorder: 5% }", "'reorder' sends some packets ahead of delayed ones")]
    [InlineData("netem: { link: eth9, delay: 5ms }", "link 'eth9' does not exist in host at this point")]
    public void A_mistake_is_refused_where_it_is_written(string action, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn(Lab("      - " + action)).Message);

    [Fact]
    public void A_kernel_without_the_feature_is_an_environment_problem_that_names_the_module_and_the_option()
    {
        var asked = new List<KernelFeature>();
        var problems = EnvironmentCheck.Problems(Scenarios.Load(Lab("""
                  - vlan-add: { name: v0.10, link: v0, id: 10 }
                  - vlan-add: { name: v0.20, link: v0, id: 20 }
                  - netem: { link: v0, delay: 10ms }
            """)), probeKernel: f =>
        {
            asked.Add(f);
            return f == KernelFeature.Vlan ? "Error: Unknown device type.\n" : null;
        });

        Assert.Equal([KernelFeature.Vlan, KernelFeature.Netem], asked); // each feature probed once
        var problem = Assert.Single(problems, p => p.Contains("kernel", StringComparison.Ordinal));
        Assert.Contains("cannot make 802.1Q VLAN links (ip link add ... type vlan): Error: Unknown device type.;", problem);
        Assert.Contains("`modprobe 8021q`", problem);
        Assert.Contains("CONFIG_VLAN_8021Q", problem);
    }

    [Fact]
    public void A_lab_without_such_kinds_never_probes_the_kernel()
    {
        var problems = EnvironmentCheck.Problems(Scenarios.Load(Lab("      - macvlan-add: { name: m1, link: ens3 }")),
            probeKernel: f => throw new InvalidOperationException($"probed {f.Name}"));

        Assert.DoesNotContain(problems, p => p.Contains("kernel", StringComparison.Ordinal));
    }

    [Fact]
    public void The_CSharp_kinds_are_the_YAML_ones()
    {
        var yaml = Scenarios.Load(Lab("""
                  - vlan-add: { name: v0.10, link: v0, id: 10 }
                  - ipvlan-add: { name: iv1, link: ens3 }
                  - netem: { link: v0, delay: 100ms, loss: 5% }
            """));
        var csharp = Authoring.Lab.Named("kernel-features").WithUplink("ens3", "192.168.64.6/24")
            .Step("links", s => s.Container("c1").Veth("v0", "eth0", peerIn: "c1").Vlan("v0.10", "v0", 10).Ipvlan("iv1", "ens3")
                .Netem("v0", delay: "100ms", loss: "5%"))
            .Build();

        for (var i = 2; i < 5; i++)
            Assert.Equal(yaml.Steps[0].Actions[i] with { Span = SourceSpan.None }, csharp.Steps[0].Actions[i] with { Span = SourceSpan.None });
    }
}
