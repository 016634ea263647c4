using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using LabRunner.Loading;
using LabRunner.Reporting;
using LabRunner.Tests.Shared;

namespace LabRunner.Tests.Browser;

/// <summary>
/// The drawings Graphviz lays out from our DOT (issue 15: in the Mermaid drawing the veth-1↔veth-2 edge crossed the
/// ens3 box): measured in the SVG dot writes, no edge passes through a namespace's box it does not end in, nor through
/// a link's box it does not join. Every step of every scenario in scenarios/, and the sample run's observed topology.
/// </summary>
public sealed partial class TopologyLayoutSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> ScenarioFiles() =>
        [.. Directory.EnumerateFiles(Path.Combine(Tools.RepoRoot, "scenarios"), "*.yaml", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Tools.RepoRoot, f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(ScenarioFiles))]
    public async Task After_every_step_no_edge_crosses_a_box_it_does_not_touch(string file)
    {
        var scenario = ScenarioLoader.LoadFile(Path.Combine(Tools.RepoRoot, file));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var step = 1; step <= scenario.Steps.Length; step++)
        {
            var topology = LabTopology.Of(scenario, step);
            if (!seen.Add(topology.ToDot())) continue; // a step that only checks draws the same picture
            AssertNoCrossing(topology, await Tools.SvgAsync(topology, Ct), $"{file} after step {step}");
        }
    }

    [Fact]
    public async Task The_observed_topology_of_a_run_is_laid_out_without_crossings_too()
    {
        var topology = new ObservedTopology(
        [
            ObservedTopology.Parse("host", "host", SampleRun.HostJson, "ens3"),
            ObservedTopology.Parse("container:busybox-1", "container busybox-1", SampleRun.Busybox1Json),
        ]).ToLabTopology();

        var svg = await Tools.SvgAsync(topology, Ct);

        AssertNoCrossing(topology, svg, "the sample run after step 1");
        Assert.Contains("172.16.100.101/24", svg);
    }

    [Fact]
    public void The_measure_sees_an_edge_that_crosses_a_third_box()
    {
        var topology = LabTopology.From(
        [
            new TopologyNode("host", "host", [new TopologyLink("a", "host", "veth", "b", "netns:n2", null, [], true)]),
            new TopologyNode("netns:n1", "netns n1", []),
            new TopologyNode("netns:n2", "netns n2", [new TopologyLink("b", "netns:n2", "veth", "a", "host", null, [], true)]),
        ]);
        // host at x 0–100, n1 at 150–250, n2 at 300–400; the edge a–b runs straight through n1.
        const string svg = """
            <svg><g class="graph">
            <g class="cluster"><title>cluster_0</title><polygon points="0,0 100,0 100,100 0,100 0,0"/></g>
            <g class="cluster"><title>cluster_1</title><polygon points="150,0 250,0 250,100 150,100 150,0"/></g>
            <g class="cluster"><title>cluster_2</title><polygon points="300,0 400,0 400,100 300,100 300,0"/></g>
            <g class="node"><title>host/a</title><polygon points="20,40 80,40 80,60 20,60 20,40"/></g>
            <g class="node"><title>netns:n2/b</title><polygon points="320,40 380,40 380,60 320,60 320,40"/></g>
            <g class="edge"><title>host/a&#45;&#45;netns:n2/b</title><path d="M80,50C150,50 250,50 320,50"/></g>
            </g></svg>
            """;

        var crossing = Assert.ThrowsAny<Exception>(() => AssertNoCrossing(topology, svg, "a made-up drawing"));

        Assert.Contains("crosses the box of netns:n1", crossing.Message);
    }

    private sealed record Box(string Name, string Place, double X0, double Y0, double X1, double Y1)
    {
        /// <summary>Strictly inside, with a margin: an edge may touch a box's border where it leaves its own box next to it.</summary>
        public bool Holds((double X, double Y) p, double margin = 2) => p.X > X0 + margin && p.X < X1 - margin && p.Y > Y0 + margin && p.Y < Y1 - margin;
    }

    private static void AssertNoCrossing(LabTopology topology, string svgText, string where)
    {
        var svg = XElement.Parse(Graphviz.Inline(svgText));
        var groups = svg.Descendants("g").ToList();
        string Title(XElement g) => g.Element("title")?.Value ?? "";
        var clusters = groups.Where(g => Classes(g).Contains("cluster"))
            .Select(g => BoxOf(g, topology.Nodes[int.Parse(Title(g)["cluster_".Length..], CultureInfo.InvariantCulture)].Key, place: null)).ToList();
        // (A namespace with only lo has a node with no outline: its text alone.)
        var nodes = groups.Where(g => Classes(g).Contains("node") && g.Elements().Any(e => e.Name.LocalName is "path" or "polygon"))
            .Select(g => BoxOf(g, Title(g), Title(g).Split('/')[0])).ToList();
        var edges = groups.Where(g => Classes(g).Contains("edge")).ToList();
        Assert.Equal(topology.Nodes.Length, clusters.Count);
        Assert.NotEmpty(nodes);
        foreach (var edge in edges)
        {
            var ends = Title(edge).Split("--");
            Assert.True(ends.Length == 2, $"{where}: edge '{Title(edge)}'");
            var places = ends.Select(e => e.Split('/')[0]).ToHashSet();
            var path = edge.Elements("path").First().Attribute("d")!.Value;
            foreach (var point in Sample(path))
            {
                foreach (var box in clusters.Where(c => !places.Contains(c.Name)))
                    Assert.False(box.Holds(point), $"{where}: the edge {Title(edge)} crosses the box of {box.Name} at {point}");
                foreach (var box in nodes.Where(n => !ends.Contains(n.Name)))
                    Assert.False(box.Holds(point), $"{where}: the edge {Title(edge)} crosses the link {box.Name} at {point}");
            }
        }
    }

    private static HashSet<string> Classes(XElement g) => [.. (g.Attribute("class")?.Value ?? "").Split(' ')];

    /// <summary>The bounding box of a group's outline (a cluster's or a node's path or polygon).</summary>
    private static Box BoxOf(XElement g, string name, string? place)
    {
        var shape = g.Elements().First(e => e.Name.LocalName is "path" or "polygon");
        var points = Points(shape.Attribute("d")?.Value ?? shape.Attribute("points")!.Value);
        return new Box(name, place ?? name, points.Min(p => p.X), points.Min(p => p.Y), points.Max(p => p.X), points.Max(p => p.Y));
    }

    /// <summary>Points along a path dot writes for an edge: M then cubic Bézier segments (C with 3 points each), 20 samples a segment.</summary>
    private static IEnumerable<(double X, double Y)> Sample(string d)
    {
        var p = Points(d);
        for (var i = 0; i + 3 < p.Count; i += 3)
            for (var t = 0.0; t <= 1.0; t += 0.05)
            {
                var u = 1 - t;
                yield return (u * u * u * p[i].X + 3 * u * u * t * p[i + 1].X + 3 * u * t * t * p[i + 2].X + t * t * t * p[i + 3].X,
                    u * u * u * p[i].Y + 3 * u * u * t * p[i + 1].Y + 3 * u * t * t * p[i + 2].Y + t * t * t * p[i + 3].Y);
            }
    }

    private static List<(double X, double Y)> Points(string text) =>
        [.. Number().Matches(text).Select(m => double.Parse(m.Value, CultureInfo.InvariantCulture)).Chunk(2).Where(c => c.Length == 2).Select(c => (c[0], c[1]))];

    [GeneratedRegex(@"-?\d+(\.\d+)?")]
    private static partial Regex Number();
}
