using LabRunner.Loading;
using LabRunner.Reporting;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>`labrunner graph`: the topology a lab builds, worked out from the scenario alone, drawn as Mermaid.</summary>
public sealed class TopologySpecs
{
    [Fact]
    public void The_article_ends_with_three_containers_on_br_0_two_of_them_sharing_a_namespace()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));

        var nodes = LabTopology.Of(scenario).Nodes;

        Assert.Equal(["host", "container busybox-1, busybox-3", "container busybox-2"], nodes.Select(n => n.Label));
        var host = nodes[0];
        Assert.Equal(["ens3", "br-0", "veth-1", "veth-3"], host.Links.Select(l => l.Name));
        Assert.All(host.Links.Where(l => l.Name.StartsWith("veth", StringComparison.Ordinal)), l => Assert.Equal("br-0", l.Master));
        Assert.Equal(("veth-2", "container:busybox-1"), (host.Links[2].PeerName, host.Links[2].PeerPlace));
        Assert.Equal(["172.16.100.1/24"], host.Links[1].Addresses);
        Golden.Verify("article.topology.mmd", LabTopology.Of(scenario).ToMermaid());
    }

    [Fact]
    public void After_section_1_n1_holds_veth_2_and_deleting_n1_takes_veth_1_with_it()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));
        var deletion = scenario.Steps.Select((s, i) => (s, i)).First(x => x.s.Actions.Any(a => a is Model.NetnsDelete)).i;

        var before = LabTopology.Of(scenario, deletion).Nodes;
        var after = LabTopology.Of(scenario, deletion + 1).Nodes;

        Assert.Contains(before, n => n.Label == "netns n1" && n.Links.Single().Name == "veth-2");
        Assert.Contains("veth-1", before[0].Links.Select(l => l.Name));
        Assert.DoesNotContain(after, n => n.Label == "netns n1");
        Assert.DoesNotContain("veth-1", after[0].Links.Select(l => l.Name)); // a veth pair dies with either end
    }

    [Fact]
    public void An_action_that_must_fail_changes_nothing_and_names_are_escaped_for_mermaid()
    {
        var scenario = Scenarios.Load("""
            lab: t
            steps:
              - title: s
                actions:
                  - netns-add: n1
                  - veth-add: { name: a-1, peer: b-1, peer-in: n1 }
                  - veth-add: { name: a-1, peer: c-1 }
                    fails-with: "File exists"
            """);

        var mermaid = LabTopology.Of(scenario).ToMermaid();

        Assert.Contains("n_host_a_1 <-->|veth| n_netns_n1_b_1", mermaid);
        Assert.DoesNotContain("c-1", mermaid);
        Assert.StartsWith("flowchart LR\n", mermaid);
    }
}
