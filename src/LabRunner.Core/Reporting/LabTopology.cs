using System.Collections.Immutable;
using System.Text;
using LabRunner.Kinds;
using LabRunner.Model;

namespace LabRunner.Reporting;

/// <summary>A link as a topology shows it: where it is, what kind, its veth peer, its bridge, its addresses.</summary>
public sealed record TopologyLink(string Name, string Place, string Kind, string? PeerName, string? PeerPlace, string? Master, ImmutableArray<string> Addresses, bool Up)
{
    /// <summary>The link of the same namespace it was made on (a vlan's, macvlan's or ipvlan's parent), or null.</summary>
    public string? Parent { get; init; }
}

/// <summary>A network namespace: the host, a netns, or a container (with the containers that share it).</summary>
public sealed record TopologyNode(string Key, string Label, ImmutableArray<TopologyLink> Links);

/// <summary>
/// What a lab has built: namespaces, their links, veth pairs, bridge ports and addresses. <see cref="Of"/> works it out
/// after a given step from the scenario alone (no root, nothing run): the state of the <see cref="HostModel"/> the kinds
/// apply themselves to; actions that must fail change nothing, and `command` actions are opaque and not drawn.
/// <see cref="ObservedTopology.ToLabTopology"/> makes one from what a run saw in the kernel instead (`command` actions
/// included). <see cref="ToMermaid"/> and <see cref="ToDot"/> draw it, for `labrunner graph`, the Markdown transcript
/// and the HTML report (SVG through Graphviz: <see cref="Graphviz"/>).
/// </summary>
public sealed class LabTopology
{
    private LabTopology(ImmutableArray<TopologyNode> nodes) => Nodes = nodes;

    public ImmutableArray<TopologyNode> Nodes { get; }

    /// <summary>A topology of these namespaces and links (drawn in this order).</summary>
    public static LabTopology From(IEnumerable<TopologyNode> nodes) => new([.. nodes]);

    /// <summary>The topology after the first <paramref name="steps"/> steps (all of them by default).</summary>
    public static LabTopology Of(Scenario scenario, int? steps = null)
    {
        var host = new HostModel(scenario.Uplink);
        foreach (var step in scenario.Steps.Take(steps ?? scenario.Steps.Length))
            foreach (var action in step.Actions)
                host.Apply(action);
        return new LabTopology(
        [
            .. host.Namespaces.Select(ns => new TopologyNode(ns.Key, ns.Label,
                [.. host.LinksIn(ns.Key).Select(l => new TopologyLink(l.Name, ns.Key, l.Link.Kind, l.Link.PeerName, l.Link.PeerKey, l.Link.Master, [.. l.Link.Addresses], l.Link.Up)
                    { Parent = l.Link.Parent })])),
        ]);
    }

    /// <summary>A Mermaid flowchart: a box per namespace, a node per link (not lo), veth pairs and bridge ports as edges.</summary>
    public string ToMermaid()
    {
        var nodes = Nodes;
        var md = new StringBuilder("flowchart LR\n");
        foreach (var node in nodes)
        {
            md.Append(CultureInfo($"  subgraph {Id(node.Key)}[\"{Escape(node.Label)}\"]\n"));
            foreach (var link in node.Links)
            {
                var text = link.Name + (link.Kind is "veth" ? "" : $" ({link.Kind})") + (link.Up ? "" : " · down") +
                           string.Concat(link.Addresses.Select(a => "<br/>" + a));
                md.Append(CultureInfo($"    {Id(node.Key, link.Name)}[\"{Escape(text)}\"]\n"));
            }
            md.Append("  end\n");
        }
        var drawn = new HashSet<string>(StringComparer.Ordinal);
        foreach (var link in nodes.SelectMany(n => n.Links))
        {
            var self = Id(link.Place, link.Name);
            if (link is { Kind: "veth", PeerName: { } peerName, PeerPlace: { } peerPlace })
            {
                var other = Id(peerPlace, peerName);
                if (drawn.Add(string.CompareOrdinal(self, other) < 0 ? self + "|" + other : other + "|" + self))
                    md.Append(CultureInfo($"  {self} <-->|veth| {other}\n"));
            }
            if (link.Master is { } bridge) md.Append(CultureInfo($"  {self} -->|port of| {Id(link.Place, bridge)}\n"));
            if (link.Parent is { } parent && nodes.Any(n => n.Key == link.Place && n.Links.Any(l => l.Name == parent)))
                md.Append(CultureInfo($"  {self} -->|on| {Id(link.Place, parent)}\n"));
        }
        return md.ToString();
    }

    /// <summary>
    /// Graphviz DOT, laid out left to right: a box (cluster) per namespace, a node per link in it (not lo) labelled with
    /// its name, kind and addresses; veth pairs as edges between their two ends and bridge ports as edges to their bridge
    /// inside the box. Edges join links, never boxes, so no edge has to cross a box it does not end in: dot routes them
    /// around other clusters. The host comes first so its links are drawn on the left, what hangs off them to the right.
    /// Every element carries a class (place host/netns/container, link kind, edge veth/port) for the HTML report's CSS.
    /// </summary>
    public string ToDot()
    {
        const string font = "DejaVu Sans,Helvetica,Arial,sans-serif";
        var dot = new StringBuilder("graph lab {\n");
        dot.Append(CultureInfo($"  graph [rankdir=LR, compound=true, newrank=true, nodesep=0.35, ranksep=0.9, pad=0.2, fontname=\"{font}\", fontsize=16, bgcolor=\"transparent\"];\n"));
        dot.Append(CultureInfo($"  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#333333\", fontcolor=\"#111111\", fontname=\"{font}\", fontsize=14, margin=\"0.18,0.08\"];\n"));
        dot.Append(CultureInfo($"  edge [color=\"#333333\", fontcolor=\"#333333\", fontname=\"{font}\", fontsize=12, penwidth=1.4];\n"));
        var order = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (node, i) in Nodes.Select((n, i) => (n, i)))
        {
            order[node.Key] = i;
            var kind = node.Key == HostModel.HostKey ? "host" : node.Key.Split(':')[0];
            dot.Append(CultureInfo($"  subgraph cluster_{i} {{\n"))
               .Append(CultureInfo($"    label=\"{Dot(node.Label)}\"; class=\"place {kind}\"; style=\"rounded,filled\"; color=\"#555555\"; fillcolor=\"{PlaceFill(kind)}\"; fontcolor=\"#111111\"; labeljust=l; margin=14;\n"));
            if (node.Links.IsEmpty)
                // An empty box still shows: a namespace with only lo (the article's step 2.1).
                dot.Append(CultureInfo($"    \"{Dot(node.Key)}/\" [label=\"lo only\", shape=plaintext, style=\"\", class=\"empty\"];\n"));
            foreach (var link in node.Links)
            {
                var text = link.Name + (link.Kind is "veth" ? "" : $" ({link.Kind})") + (link.Up ? "" : " · down") +
                           string.Concat(link.Addresses.Select(a => "\n" + a));
                var style = link.Kind == "bridge" ? "rounded,filled,bold" : link.Up ? "rounded,filled" : "rounded,filled,dashed";
                dot.Append(CultureInfo($"    \"{Dot(NodeId(link.Place, link.Name))}\" [label=\"{Dot(text)}\", style=\"{style}\", class=\"link {KindClass(link.Kind)}{(link.Up ? "" : " down")}\"];\n"));
            }
            dot.Append("  }\n");
        }
        var drawn = new HashSet<string>(StringComparer.Ordinal);
        foreach (var link in Nodes.SelectMany(n => n.Links))
        {
            var self = NodeId(link.Place, link.Name);
            if (link is { Kind: "veth", PeerName: { } peerName, PeerPlace: { } peerPlace } && order.ContainsKey(peerPlace))
            {
                var other = NodeId(peerPlace, peerName);
                if (!drawn.Add(string.CompareOrdinal(self, other) < 0 ? self + "|" + other : other + "|" + self)) continue;
                // The end in the earlier namespace is the tail, so the host's side is on the left.
                var (tail, head) = order[link.Place] <= order[peerPlace] ? (self, other) : (other, self);
                dot.Append(CultureInfo($"  \"{Dot(tail)}\" -- \"{Dot(head)}\" [class=\"veth\", penwidth=2.2];\n"));
            }
        }
        foreach (var link in Nodes.SelectMany(n => n.Links))
            if (link.Master is { } bridge && Nodes.Any(n => n.Key == link.Place && n.Links.Any(l => l.Name == bridge)))
                // Bridge first: ports are drawn to the right of their bridge, on the way to what they lead to.
                dot.Append(CultureInfo($"  \"{Dot(NodeId(link.Place, bridge))}\" -- \"{Dot(NodeId(link.Place, link.Name))}\" [class=\"port\", style=dashed, label=\"port\"];\n"));
        foreach (var link in Nodes.SelectMany(n => n.Links))
            if (link.Parent is { } parent && Nodes.Any(n => n.Key == link.Place && n.Links.Any(l => l.Name == parent)))
                // Parent first: a vlan or macvlan is drawn to the right of the link it was made on.
                dot.Append(CultureInfo($"  \"{Dot(NodeId(link.Place, parent))}\" -- \"{Dot(NodeId(link.Place, link.Name))}\" [class=\"parent\", style=dotted, label=\"on\"];\n"));
        return dot.Append("}\n").ToString();
    }

    private static string NodeId(string place, string link) => place + "/" + link;

    private static string PlaceFill(string kind) => kind switch
    {
        "host" => "#e8f0fb",
        "netns" => "#f1ecfa",
        _ => "#e9f6ec",
    };

    private static string KindClass(string kind) => kind.Split(' ')[0] switch
    {
        "veth" or "bridge" or "vxlan" or "uplink" => kind.Split(' ')[0],
        _ => "other",
    };

    /// <summary>Text inside a DOT double-quoted string: quotes and backslashes escaped (no \N, \G... escapes), newlines as \n.</summary>
    private static string Dot(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string CultureInfo(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Id(string place, string? link = null)
    {
        var raw = link is null ? place : place + "/" + link;
        var id = new StringBuilder("n_");
        foreach (var c in raw) id.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        return id.ToString();
    }

    private static string Escape(string text) => text.Replace("\"", "#quot;", StringComparison.Ordinal);
}
