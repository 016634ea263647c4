using System.Globalization;
using LabRunner.Model;

namespace LabRunner.Engine;

/// <summary>
/// The neighbour (ARP) table is one for the whole machine, every namespace's entries in it, and the kernel refuses new
/// entries above net.ipv4.neigh.default.gc_thresh3 (1024 by default): a large lab's pings then slow down or fail, and
/// retries hide why. So `validate` and `run` estimate what a lab needs and warn before anything is built.
/// <para>
/// The estimate is a floor: each IPv4 ping, connect or http from a place to an address makes an entry in the sender
/// (for the address or its gateway) and one in the answerer (for the sender), so twice the distinct (from, to) pairs.
/// Entries of other labs and of the machine itself come on top.
/// </para>
/// </summary>
public static class NeighbourBudget
{
    public const string Limit = "net.ipv4.neigh.default.gc_thresh3";

    /// <summary>At least how many neighbour entries the lab's traffic makes.</summary>
    public static int Estimate(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var pairs = new HashSet<(Place, string)>();
        foreach (var expectation in scenario.Steps.SelectMany(s => s.Expectations))
        {
            var pair = expectation switch
            {
                PingExpectation p => (p.From, p.To),
                ConnectExpectation c => (c.From, c.To),
                HttpExpectation h when Uri.TryCreate(h.Url, UriKind.Absolute, out var url) => (h.From, url.Host),
                _ => default((Place, string)?),
            };
            if (pair is { } p2 && !Loading.Names.IsV6(p2.Item2)) pairs.Add(p2);
        }
        return 2 * pairs.Count;
    }

    /// <summary>The machine's limit (gc_thresh3 of this process's namespace, where the machine-wide value shows), or null.</summary>
    public static long? ReadLimit()
    {
        try
        {
            return long.TryParse(File.ReadAllText("/proc/sys/net/ipv4/neigh/default/gc_thresh3").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var limit) ? limit : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The warning for <paramref name="scenario"/> against <paramref name="limit"/>, or null when it fits.</summary>
    public static string? Warning(Scenario scenario, long? limit)
    {
        var needed = Estimate(scenario);
        if (limit is not { } max || needed <= max) return null;
        var suggested = Math.Max(4096, (long)Math.Ceiling(needed * 2.0 / 1024) * 1024);
        return $"this lab's traffic makes at least {needed.ToString(CultureInfo.InvariantCulture)} neighbour (ARP) entries " +
               $"(each ping, connect or http: one in the sender, one in the answerer), more than {Limit} = {max.ToString(CultureInfo.InvariantCulture)} " +
               "on this machine, and the table is one for all namespaces: the kernel will refuse entries (\"neighbour table overflow\"), " +
               $"and pings will slow down or fail. Raise the limits first: sysctl -w net.ipv4.neigh.default.gc_thresh1={suggested / 4} " +
               $"net.ipv4.neigh.default.gc_thresh2={suggested / 2} {Limit}={suggested} (and put them back afterwards)";
    }

    /// <summary>The table's refusals so far (table_fulls of /proc/net/stat/arp_cache, summed over CPUs), or null.</summary>
    public static long? ReadTableFulls()
    {
        try
        {
            return Diagnosis.ArpCacheStat.Parse(File.ReadAllText("/proc/net/stat/arp_cache"))?.TableFulls;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>What a step is told when the table refused entries during it.</summary>
    public static string Overflowed(long refusals) =>
        $"the neighbour (ARP) table overflowed {refusals.ToString(CultureInfo.InvariantCulture)} times during this step " +
        $"(table_fulls in /proc/net/stat/arp_cache): the kernel refused entries above {Limit} = " +
        $"{ReadLimit()?.ToString(CultureInfo.InvariantCulture) ?? "?"}, so traffic waited or was dropped, and checks may have passed only on a retry. " +
        $"The table is one for the whole machine: raise {Limit} (and gc_thresh1/2) in the machine's own namespace, or run fewer containers";
}
