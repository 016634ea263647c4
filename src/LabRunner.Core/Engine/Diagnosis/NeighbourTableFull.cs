using System.Globalization;

namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// The neighbour (ARP) table is full: the kernel cannot make an entry for the next hop ("neighbour table overflow" in
/// its log). The table is one for all namespaces; its limit, net.ipv4.neigh.default.gc_thresh3, is read in the sender's
/// namespace and, where that has none (namespaces other than the first hide it), in this process's own. The entries
/// and table_fulls (grown while the probe was sent again) come from /proc/net/stat/arp_cache, where it is readable.
/// </summary>
internal sealed class NeighbourTableFull : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("neighbour-table-full",
        "the neighbour table is full: its entries reach net.ipv4.neigh.default.gc_thresh3, or table_fulls grew (/proc/net/stat/arp_cache); the kernel logs \"neighbour table overflow\"",
        "remove stale entries (ip neigh flush …), or raise gc_thresh1/2/3 in the machine's own namespace");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        if (cx.Layer2Reached != false) return false;
        const string key = "net.ipv4.neigh.default.gc_thresh3";
        var limitText = await cx.SysctlAsync(cx.From, key, ct) ?? (await cx.RunAsync(["sysctl", "-n", key], ct))?.Trim();
        long? limit = long.TryParse(limitText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null;
        var counters = await cx.CountersAsync(ct);
        var (before, after) = (counters.Before.ArpCache, counters.After.ArpCache);
        var grew = before is not null && after is not null && after.TableFulls > before.TableFulls;
        var full = after is not null && limit is { } max && after.Entries >= max;
        if (!grew && !full) return false;

        var places = new List<(string Place, int Count)>();
        foreach (var place in cx.NearPlaces)
            if (await cx.JsonAsync(cx.Target(place).Ip("-4", "-j", "neigh", "show"), ct) is { } entries && entries.GetArrayLength() > 0)
                places.Add((place.ToString(), entries.GetArrayLength()));
        var most = places.OrderByDescending(p => p.Count).FirstOrDefault();
        cx.Add(Class.Id, $"the neighbour table is full: {after?.Entries.ToString(CultureInfo.InvariantCulture) ?? "?"} entries" +
                         (limit is { } lim ? $", {key} = {lim}" : "") +
                         (grew ? $" (table_fulls {before!.TableFulls} → {after!.TableFulls})" : "") +
                         ": the kernel cannot make an entry for the next hop (it logs \"neighbour table overflow\")" +
                         (most.Place is null ? "" : $"; {most.Place} holds {most.Count} of them"));
        cx.Add(Class.Id, $"try: remove entries (ip neigh flush …{(most.Place is null ? "" : " in " + most.Place)}), or raise the limits in the machine's own namespace: " +
                         $"sysctl -w {key}={Math.Max(4096, (limit ?? 1024) * 4)} (and gc_thresh1, gc_thresh2)");
        return false;
    }
}
