using System.Text.Json;

using static LabRunner.Execution.IpJson;

namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// Whether ARP resolved the next hop (the gateway, or the destination when on-link), and whose MAC it is. An IPv6 next
/// hop is <see cref="Ipv6NeighbourDiscovery"/>'s: the same look at the neighbour table, in its own words.
/// </summary>
internal sealed class ArpUnanswered : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("arp-unanswered",
        "ARP for the next hop got no answer: the neighbour entry is FAILED or INCOMPLETE, layer 2 does not reach it",
        "check that the next hop is up, has that address, and that both ends are on the same link or bridge");

    public DiagnosisClassInfo Info => Class;

    public Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct) =>
        DiagnosisContext.IsIpv6(cx.Route!.Gateway ?? cx.To) ? Task.FromResult(false) : ResolvedAsync(cx, Class.Id, "ARP", ct);

    /// <summary>
    /// The neighbour entry of the next hop in the sender's table: none or unresolved (layer 2 does not reach it: a
    /// finding of <paramref name="id"/>), or resolved, and whose MAC that is (a note). <paramref name="resolution"/> names
    /// the protocol: ARP, or neighbour discovery for IPv6.
    /// </summary>
    internal static async Task<bool> ResolvedAsync(DiagnosisContext cx, string id, string resolution, CancellationToken ct)
    {
        var route = cx.Route!;
        var nextHop = route.Gateway ?? cx.To;
        if (route.Local)
        {
            cx.Layer2Reached = true;
            cx.Note($"{cx.To} is an address of {cx.From.Name} itself: delivered through lo, no {resolution} on the way");
            return false;
        }
        var neighbors = await cx.JsonAsync(cx.Target(cx.From).Ip("-j", "neigh", "show", "to", nextHop, "dev", route.Dev), ct);
        var entry = neighbors is { } n ? n.EnumerateArray().FirstOrDefault() : default;
        var mac = entry.ValueKind == JsonValueKind.Object ? Str(entry, "lladdr") : null;
        var states = entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.Array
            ? string.Join(",", s.EnumerateArray().Select(x => x.GetString())) : "none";
        if (mac is null)
        {
            cx.Layer2Reached = false;
            cx.Add(id, $"{resolution} for {nextHop} on {route.Dev} got no answer (neighbour entry: {states}): layer 2 does not reach it; " +
                             "check that it is up, has that address, and that both ends are ports of the same bridge");
            return false;
        }
        cx.Layer2Reached = true;
        var owner = await OwnerOfMacAsync(cx, mac, ct);
        cx.Note($"{resolution} works: {nextHop} is at {mac}" + (owner is null ? "" : $" ({owner})") + ", so layer 2 reaches it");
        return false;
    }

    private static async Task<string?> OwnerOfMacAsync(DiagnosisContext cx, string mac, CancellationToken ct)
    {
        foreach (var place in cx.LabPlaces)
            foreach (var link in await cx.LinksAsync(place, ct))
                if (string.Equals(Str(link, "address"), mac, StringComparison.OrdinalIgnoreCase))
                    return $"{Str(link, "ifname")} in {place.Name}";
        return null;
    }
}
