using System.Collections.Immutable;
using System.Text;
using LabRunner.Kinds;
using LabRunner.Model;

namespace LabRunner.Reporting;

/// <summary>A link as a topology shows it: where it is, what kind, its veth peer, its bridge, its addresses.</summary>
public sealed record TopologyLink(string Name, string Place, string Kind, string? PeerName, string? PeerPlace, string? Master, ImmutableArray<string> Addresses, bool Up);

/// <summary>A network namespace: the host, a netns, or a container (with the containers that share it).</summary>
public sealed record TopologyNode(string Key, string Label, ImmutableArray<TopologyLink> Links);

/// <summary>
/// What a lab has built after a given step, worked out from the scenario alone (no root, nothing run): the state of
/// the <see cref="HostModel"/> the kinds apply themselves to — namespaces, their links, veth pairs, bridge ports and
/// addresses. <see cref="ToMermaid"/> draws it, for `labrunner graph` and the Markdown transcript. Actions that must
/// fail change nothing; `command` actions are opaque and not drawn.
/// </summary>
public sealed class LabTopology
{
    private LabTopology(ImmutableArray<TopologyNode> nodes) => Nodes = nodes;

    public ImmutableArray<TopologyNode> Nodes { get; }

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
                [.. host.LinksIn(ns.Key).Select(l => new TopologyLink(l.Name, ns.Key, l.Link.Kind, l.Link.PeerName, l.Link.PeerKey, l.Link.Master, [.. l.Link.Addresses], l.Link.Up))])),
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
        }
        return md.ToString();
    }

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
