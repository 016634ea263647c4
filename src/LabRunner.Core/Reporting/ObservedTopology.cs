using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using LabRunner.Kinds;

namespace LabRunner.Reporting;

/// <summary>
/// A link as the kernel has it (one entry of <c>ip -j -d addr show</c>): its index, its kind (veth, bridge, vxlan...),
/// its bridge, its veth peer (a name in the same namespace, or an index in another one), its addresses, whether it is up
/// (the UP flag) and its operational state (UP, DOWN, LOWERLAYERDOWN...).
/// </summary>
public sealed record ObservedLink(
    string Name,
    int Index,
    string Kind,
    string? Master,
    string? PeerName,
    int? PeerIndex,
    bool PeerElsewhere,
    ImmutableArray<string> Addresses,
    bool Up,
    string State);

/// <summary>One network namespace of a lab as observed: its key and label as the <see cref="HostModel"/> names them, and its links (not lo).</summary>
public sealed record ObservedPlace(string Key, string Label, ImmutableArray<ObservedLink> Links);

/// <summary>
/// What a run saw in the kernel after a step: each place of the lab (the host, its netns, its containers, one entry per
/// network namespace) with its links. Unlike <see cref="LabTopology.Of"/>, which replays the lab file, it shows what
/// `command` actions did (busybox-1's address in the article). <see cref="Parse"/> reads iproute2's JSON;
/// <see cref="ToLabTopology"/> pairs veth ends across namespaces for drawing.
/// </summary>
public sealed record ObservedTopology(ImmutableArray<ObservedPlace> Places)
{
    /// <summary>
    /// A place from the output of <c>ip -j -d addr show</c> in it. lo is left out, and so are IPv6 link-local
    /// addresses (every link has one; they say nothing about the lab). <paramref name="uplink"/> names the host's
    /// uplink, shown as such.
    /// </summary>
    public static ObservedPlace Parse(string key, string label, string ipJson, string? uplink = null)
    {
        var links = ImmutableArray.CreateBuilder<ObservedLink>();
        using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(ipJson) ? "[]" : ipJson);
        foreach (var link in document.RootElement.EnumerateArray())
        {
            var name = Str(link, "ifname");
            if (name is null) continue;
            var infoKind = link.TryGetProperty("linkinfo", out var info) ? Str(info, "info_kind") : null;
            if (Str(link, "link_type") == "loopback" || (infoKind is null && name == "lo")) continue;
            var kind = infoKind ?? Str(link, "link_type") ?? "link";
            if (kind == "vxlan" && info.TryGetProperty("info_data", out var data) && data.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number)
                kind = $"vxlan {id.GetInt64().ToString(CultureInfo.InvariantCulture)}";
            if (key == HostModel.HostKey && name == uplink) kind = "uplink";
            var flags = link.TryGetProperty("flags", out var f) && f.ValueKind == JsonValueKind.Array
                ? f.EnumerateArray().Select(x => x.GetString()).ToHashSet() : [];
            var elsewhere = link.TryGetProperty("link_netnsid", out _);
            links.Add(new ObservedLink(
                name,
                Int(link, "ifindex") ?? 0,
                kind,
                Str(link, "master"),
                elsewhere ? null : Str(link, "link"),
                Int(link, "link_index"),
                elsewhere,
                [.. Addresses(link)],
                flags.Contains("UP"),
                Str(link, "operstate") ?? "UNKNOWN"));
        }
        return new ObservedPlace(key, label, links.ToImmutable());
    }

    /// <summary>
    /// For drawing: each veth's peer found. In the same namespace iproute2 names it; in another it gives only the
    /// peer's index, so the peer is the one veth elsewhere whose index is that and whose own peer index points back
    /// (indexes are per namespace: a pair matches only both ways, and an end that matches more than one is left
    /// unpaired rather than guessed). A peer outside the lab (the sandbox uplink's far end) stays unpaired.
    /// </summary>
    public LabTopology ToLabTopology()
    {
        var ends = Places.SelectMany(p => p.Links.Select(l => (Place: p.Key, Link: l))).ToList();
        (string? Name, string? Place) PeerOf(string place, ObservedLink link)
        {
            if (link.Kind != "veth") return (null, null);
            if (!link.PeerElsewhere) return link.PeerName is null ? (null, null) : (link.PeerName, place);
            var matches = ends.Where(e => e.Place != place && e.Link.PeerElsewhere && e.Link.Index == link.PeerIndex && e.Link.PeerIndex == link.Index).ToList();
            return matches.Count == 1 ? (matches[0].Link.Name, matches[0].Place) : (null, null);
        }
        return LabTopology.From(Places.Select(p => new TopologyNode(p.Key, p.Label,
        [
            .. p.Links.Select(l =>
            {
                var (peerName, peerPlace) = PeerOf(p.Key, l);
                return new TopologyLink(l.Name, p.Key, l.Kind, peerName, peerPlace, l.Master, l.Addresses, l.Up);
            }),
        ])));
    }

    private static IEnumerable<string> Addresses(JsonElement link)
    {
        if (!link.TryGetProperty("addr_info", out var info) || info.ValueKind != JsonValueKind.Array) yield break;
        foreach (var a in info.EnumerateArray())
        {
            var family = Str(a, "family");
            if (family is not ("inet" or "inet6") || Str(a, "local") is not { } local) continue;
            if (family == "inet6" && Str(a, "scope") == "link") continue;
            yield return Int(a, "prefixlen") is { } prefix ? $"{local}/{prefix.ToString(CultureInfo.InvariantCulture)}" : local;
        }
    }

    private static string? Str(JsonElement e, string property) => Execution.IpJson.Str(e, property);

    private static int? Int(JsonElement e, string property) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : null;
}

/// <summary>
/// The topology a run observed after a step (<see cref="Topology"/>), or why there is none (<see cref="Missing"/>: a
/// place could not be read); a report then shows the reason instead of the picture.
/// </summary>
public sealed record TopologyObservation(ObservedTopology? Topology, string? Missing)
{
    public static TopologyObservation Seen(ObservedTopology topology) => new(topology, null);

    public static TopologyObservation NotSeen(string why) => new(null, why);
}
