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

    [Fact]
    public void The_dot_drawing_has_a_box_per_namespace_and_joins_links_never_boxes()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));

        var dot = LabTopology.Of(scenario).ToDot();

        Assert.StartsWith("graph lab {\n  graph [rankdir=LR, compound=true,", dot);
        Assert.Equal(3, dot.Split("subgraph cluster_").Length - 1);
        Assert.DoesNotContain("lhead", dot); // an edge ending on a box would be drawn to its border, across what is inside
        Assert.DoesNotContain("ltail", dot);
        var declared = System.Text.RegularExpressions.Regex.Matches(dot, "^    \"([^\"]+)\" \\[", System.Text.RegularExpressions.RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();
        var ends = System.Text.RegularExpressions.Regex.Matches(dot, "^  \"([^\"]+)\" -- \"([^\"]+)\"", System.Text.RegularExpressions.RegexOptions.Multiline)
            .SelectMany(m => new[] { m.Groups[1].Value, m.Groups[2].Value }).ToList();
        Assert.Equal(8, ends.Count); // 2 veth pairs, 2 bridge ports
        Assert.All(ends, e => Assert.Contains(e, declared));
        Golden.Verify("article.topology.dot", dot);
    }

    [Fact]
    public void Dot_text_escapes_quotes_and_backslashes_and_keeps_an_empty_namespace_visible()
    {
        var topology = LabTopology.From(
        [
            new TopologyNode("host", "host \"a\\b\"", [new TopologyLink("x\"y", "host", "veth", null, null, null, ["10.0.0.1/24"], true)]),
            new TopologyNode("container:c1", "container c1", []),
        ]);

        var dot = topology.ToDot();

        Assert.Contains("label=\"host \\\"a\\\\b\\\"\";", dot);
        Assert.Contains("\"host/x\\\"y\" [label=\"x\\\"y\\n10.0.0.1/24\"", dot);
        Assert.Contains("\"container:c1/\" [label=\"lo only\"", dot);
    }

    [Fact]
    public async Task Drawing_svg_without_graphviz_is_an_environment_problem_that_says_how_to_install_it()
    {
        using var empty = new TempDirectory();
        var runner = new RecordingRunner();

        var problem = await Assert.ThrowsAsync<Engine.EnvironmentProblemException>(() =>
            Graphviz.RenderSvgAsync("graph g {}", runner, searchPath: empty.Path, ct: TestContext.Current.CancellationToken));

        Assert.Contains("Graphviz is not installed", problem.Message);
        Assert.Contains("apt-get install -y graphviz", problem.Fix);
        Assert.Empty(runner.Commands);
    }

    [Fact]
    public async Task Svg_comes_from_dot_run_as_a_check_on_a_temporary_file_that_is_removed()
    {
        using var bin = new TempDirectory();
        var fake = Path.Combine(bin.Path, "dot");
        await File.WriteAllTextAsync(fake, "", TestContext.Current.CancellationToken);
        string? file = null;
        var runner = new RecordingRunner(argv =>
        {
            file = argv[^1];
            return RecordingRunner.Ok(File.ReadAllText(file) == "graph g {}" ? "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><g/></svg>\n" : "");
        });

        var svg = await Graphviz.RenderSvgAsync("graph g {}", runner, searchPath: bin.Path, ct: TestContext.Current.CancellationToken);

        Assert.Equal([fake, "-Tsvg", file!], runner.Commands.Single().Argv);
        Assert.Equal(Execution.CommandPurpose.Check, runner.Commands.Single().Purpose);
        Assert.False(File.Exists(file));
        Assert.Equal("<svg><g/></svg>", Graphviz.Inline(svg));
    }

    [Fact]
    public void A_link_made_on_a_parent_is_drawn_on_it_while_both_are_in_one_namespace()
    {
        var scenario = Scenarios.Load("""
            lab: parents
            uplink: { name: ens3, address: 192.168.64.6/24 }
            steps:
              - title: "1 a vlan and a macvlan on the host"
                actions:
                  - veth-add: { name: v0, peer: v1 }
                  - vlan-add: { name: v0.10, link: v0, id: 10 }
                  - macvlan-add: { name: m1, link: ens3 }
              - title: "2 the macvlan moves into c1"
                actions:
                  - container-run: c1
                  - link-move: { name: m1, to: c1 }
            """);

        var first = LabTopology.Of(scenario, 1);
        Assert.Contains("\"host/v0\" -- \"host/v0.10\" [class=\"parent\", style=dotted, label=\"on\"];", first.ToDot());
        Assert.Contains("\"host/ens3\" -- \"host/m1\" [class=\"parent\"", first.ToDot());
        Assert.Contains("n_host_v0_10 -->|on| n_host_v0\n", first.ToMermaid());
        // Moved away from its parent: no edge to a link of another namespace.
        Assert.DoesNotContain("/m1\" [class=\"parent\"", LabTopology.Of(scenario).ToDot());
    }
}
