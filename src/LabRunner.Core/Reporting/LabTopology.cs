using System.Collections.Immutable;
using System.Text;
using LabRunner.Model;

namespace LabRunner.Reporting;

/// <summary>A link as a topology shows it: where it is, what kind, its veth peer, its bridge, its addresses.</summary>
public sealed record TopologyLink(string Name, string Place, string Kind, string? PeerName, string? PeerPlace, string? Master, ImmutableArray<string> Addresses, bool Up);

/// <summary>A network namespace: the host, a netns, or a container (with the containers that share it).</summary>
public sealed record TopologyNode(string Key, string Label, ImmutableArray<TopologyLink> Links);

/// <summary>
/// What a lab has built after a given step, worked out from the scenario alone (no root, nothing run): the
/// namespaces, their links, veth pairs, bridge ports and addresses. <see cref="ToMermaid"/> draws it, for
/// `labrunner graph` and the Markdown transcript. Actions that must fail change nothing; `command` actions are
/// opaque and not drawn.
/// </summary>
public sealed class LabTopology
{
    private const string Host = "host";
    private readonly List<string> _order = [Host];
    private readonly Dictionary<string, string> _labels = new(StringComparer.Ordinal) { [Host] = "host" };
    // container name -> key of the namespace it uses (its own, or the one it joined)
    private readonly Dictionary<string, string> _containers = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Place, string Name), Link> _links = [];

    private sealed class Link(string kind)
    {
        public string Kind { get; } = kind;
        public (string Place, string Name)? Peer { get; set; }
        public string? Master { get; set; }
        public List<string> Addresses { get; } = [];
        public bool Up { get; set; }
        public int Order { get; set; }
    }

    private int _linkOrder;

    private LabTopology(Uplink uplink) =>
        _links[(Host, uplink.Name)] = new Link("uplink") { Addresses = { uplink.Address }, Up = true, Order = _linkOrder++ };

    public ImmutableArray<TopologyNode> Nodes =>
    [
        .. _order.Select(key => new TopologyNode(key, _labels[key],
            [.. _links.Where(l => l.Key.Place == key).OrderBy(l => l.Value.Order).Select(l => new TopologyLink(
                l.Key.Name, key, l.Value.Kind, l.Value.Peer?.Name, l.Value.Peer?.Place, l.Value.Master, [.. l.Value.Addresses], l.Value.Up))])),
    ];

    /// <summary>The topology after the first <paramref name="steps"/> steps (all of them by default).</summary>
    public static LabTopology Of(Scenario scenario, int? steps = null)
    {
        var topology = new LabTopology(scenario.Uplink);
        foreach (var step in scenario.Steps.Take(steps ?? scenario.Steps.Length))
            foreach (var action in step.Actions.Where(a => a.ExpectedError is null))
                topology.Apply(action);
        return topology;
    }

    private string? Key(Place place) => place.Kind switch
    {
        PlaceKind.Host => Host,
        PlaceKind.Netns => _labels.ContainsKey("netns:" + place.Name) ? "netns:" + place.Name : null,
        _ => _containers.GetValueOrDefault(place.Name),
    };

    private void Apply(LabAction action)
    {
        switch (action)
        {
            case NetnsAdd a:
                AddNode("netns:" + a.Name, $"netns {a.Name}");
                break;
            case NetnsDelete a:
                RemoveNode("netns:" + a.Name);
                break;
            case ContainerRun { ShareNetnsWith: { } owner } a when _containers.TryGetValue(owner, out var shared):
                _containers[a.Name] = shared;
                _labels[shared] += $", {a.Name}";
                break;
            case ContainerRun a:
                _containers[a.Name] = "container:" + a.Name;
                AddNode("container:" + a.Name, $"container {a.Name}");
                break;
            case ContainerStop a when _containers.Remove(a.Name, out var key):
                if (!_containers.ContainsValue(key)) RemoveNode(key);
                break;
            case VethAdd a when Key(a.In) is { } place && Key(a.PeerIn ?? a.In) is { } peerPlace:
                _links[(place, a.Name)] = new Link("veth") { Peer = (peerPlace, a.Peer), Order = _linkOrder++ };
                _links[(peerPlace, a.Peer)] = new Link("veth") { Peer = (place, a.Name), Order = _linkOrder++ };
                break;
            case BridgeAdd a when Key(a.In) is { } place:
                _links[(place, a.Name)] = new Link("bridge") { Order = _linkOrder++ };
                break;
            case VxlanAdd a when Key(a.In) is { } place:
                _links[(place, a.Name)] = new Link($"vxlan {a.Id}") { Order = _linkOrder++ };
                break;
            case LinkMove a when Key(a.From) is { } from && Key(a.To) is { } to && _links.Remove((from, a.Name), out var moved):
                _links[(to, a.Name)] = moved;
                moved.Master = null; // a move out of a namespace leaves its bridge
                moved.Addresses.Clear();
                moved.Up = a.Up;
                if (moved.Peer is { } p && _links.TryGetValue(p, out var peer)) peer.Peer = (to, a.Name);
                break;
            case LinkSetState a when Key(a.In) is { } place && _links.TryGetValue((place, a.Name), out var state):
                state.Up = a.Up;
                break;
            case LinkDelete a when Key(a.In) is { } place:
                RemoveLink((place, a.Name));
                break;
            case BridgeAttach a when Key(a.In) is { } place && _links.TryGetValue((place, a.Link), out var port):
                port.Master = a.Bridge;
                break;
            case BridgeDetach a when Key(a.In) is { } place && _links.TryGetValue((place, a.Link), out var port):
                port.Master = null;
                break;
            case AddressAdd a when Key(a.In) is { } place && _links.TryGetValue((place, a.Device), out var link):
                link.Addresses.Add(a.Cidr);
                break;
        }
    }

    private void AddNode(string key, string label)
    {
        if (_labels.TryAdd(key, label)) _order.Add(key);
    }

    /// <summary>A namespace going away takes its links with it, and a veth's peer dies with it.</summary>
    private void RemoveNode(string key)
    {
        foreach (var link in _links.Keys.Where(k => k.Place == key).ToList()) RemoveLink(link);
        _labels.Remove(key);
        _order.Remove(key);
    }

    private void RemoveLink((string Place, string Name) key)
    {
        if (!_links.Remove(key, out var link)) return;
        if (link.Peer is { } peer) _links.Remove(peer);
        foreach (var port in _links.Values.Where(l => l.Master == key.Name && link.Kind == "bridge")) port.Master = null;
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
