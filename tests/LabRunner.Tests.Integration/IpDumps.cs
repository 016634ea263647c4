using System.Text.Json.Nodes;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The `ip -j` dumps the driver specs compare (links with -d, addresses, routes of every table, both families), with
/// what differs from one namespace or run to the next left out: indexes, MACs and what is made from them (IPv6
/// link-local addresses and their routes), netns ids, statistics, timers and the bridge's own ids.
/// </summary>
internal static class IpDumps
{
    /// <summary>The ip arguments of each dump, in order.</summary>
    public static readonly string[][] Commands =
        [["-j", "-d", "link", "show"], ["-j", "addr", "show"], ["-j", "route", "show", "table", "all"], ["-6", "-j", "route", "show", "table", "all"]];

    private static readonly HashSet<string> PerInstance = new(StringComparer.Ordinal)
    {
        "ifindex", "link_index", "address", "broadcast", "perm_address", "link_netnsid", "stats", "stats64", "id", "no",
        "bridge_id", "root_id", "designated_root", "designated_bridge", "designated_port", "designated_cost", "root_port",
        "parentbus", "parentdev", "inet6_addr_gen_mode",
    };

    /// <summary>One dump's JSON with the per-instance parts left out, as compact JSON.</summary>
    public static string Normalised(string ipJson)
    {
        var json = JsonNode.Parse(ipJson)!.AsArray();
        foreach (var item in json.ToList())
            if (item?["dst"]?.GetValue<string>() is { } dst && (dst.StartsWith("fe80", StringComparison.Ordinal) || dst.StartsWith("ff00", StringComparison.Ordinal)))
                json.Remove(item);
        Normalise(json);
        return json.ToJsonString();
    }

    private static void Normalise(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var key in o.Select(p => p.Key).ToList())
                    if (PerInstance.Contains(key) || key.EndsWith("_timer", StringComparison.Ordinal)) o.Remove(key);
                if (o["addr_info"] is JsonArray info)
                    foreach (var a in info.ToList())
                        if (a?["local"]?.GetValue<string>() is { } local && local.StartsWith("fe80", StringComparison.Ordinal)) info.Remove(a);
                foreach (var child in o.Select(p => p.Value).ToList()) Normalise(child);
                break;
            case JsonArray a:
                foreach (var child in a) Normalise(child);
                break;
        }
    }
}
