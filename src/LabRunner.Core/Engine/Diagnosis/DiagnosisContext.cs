using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using LabRunner.Execution;
using LabRunner.Model;

using static LabRunner.Execution.IpJson;

namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// The traffic that failed, as the diagnosis needs it: who sent what to whom, and how to send it again (a few probe
/// pings, one connection attempt) so that counters can be read before and after.
/// </summary>
/// <param name="Protocol">icmp, tcp or udp.</param>
/// <param name="Port">The destination port (tcp, udp).</param>
/// <param name="Size">Data bytes of each echo request (ping -s), when given.</param>
/// <param name="DontFragment">Whether the packets carry DF (ping -M do).</param>
/// <param name="ResendAsync">Sends the same traffic again; its outcome (a ping's "Frag needed" lines) is evidence too.</param>
internal sealed record DiagnosisProbe(Place From, string To, string Protocol = "icmp", int? Port = null, int? Size = null, bool DontFragment = false,
    Func<CancellationToken, Task<CommandOutcome>>? ResendAsync = null)
{
    /// <summary>"ping", "TCP port 80", "UDP port 53": what was sent, for messages.</summary>
    public string What => Protocol == "icmp" ? "ping" : $"{Protocol.ToUpperInvariant()} port {Port}";
}

/// <summary>
/// What a diagnosis class works with: the probe, the lab's places and how to read them (only reading: ip -j, sysctl -n,
/// iptables-save, ss), what earlier classes found on the path (the sender's route, whether layer 2 reached the next hop),
/// and the findings so far. Counters (iptables, the reverse-path filter's, the neighbour table's) are read once for the
/// whole diagnosis, before and after sending the probe again (<see cref="CountersAsync"/>).
/// </summary>
internal sealed class DiagnosisContext(LabSession session, ICommandRunner runner, Func<IReadOnlyList<Place>> labPlaces, DiagnosisProbe probe)
{
    private readonly List<Finding> _findings = [];
    private readonly Dictionary<string, Place?> _owners = new(StringComparer.Ordinal);
    private ProbeCounters? _counters;

    public LabSession Session => session;

    public DiagnosisProbe Probe { get; } = probe with { To = session.Expand(probe.To) };

    public Place From => Probe.From;

    /// <summary>The destination address, placeholders expanded.</summary>
    public string To => Probe.To;

    public IReadOnlyList<Finding> Findings => _findings;

    /// <summary>The classes found so far.</summary>
    public bool AnyClassFound => _findings.Any(f => f.Class is not null);

    public bool Found(string classId) => _findings.Any(f => f.Class == classId);

    // ---------- facts learned along the walk ----------

    /// <summary>The sender's route to <see cref="To"/> (<c>ip -j route get</c>), once <see cref="Classes.NoRoute"/> found one.</summary>
    public RouteHop? Route { get; set; }

    /// <summary>Null until the neighbour step looked; then whether the next hop's MAC was resolved.</summary>
    public bool? Layer2Reached { get; set; }

    /// <summary>The address the sender sends from (the route's prefsrc).</summary>
    public string? Source => Route?.Source;

    // ---------- findings ----------

    /// <summary>A line of a class's finding (its cause, or its "try:" fix).</summary>
    public void Add(string classId, string text) => _findings.Add(new Finding(classId, text));

    /// <summary>A line that belongs to no class: what was seen on the way ("ARP works: …").</summary>
    public void Note(string text) => _findings.Add(new Finding(null, text));

    // ---------- reading the lab ----------

    public IReadOnlyList<Place> LabPlaces => labPlaces();

    /// <summary>The lab's places that are running (a stopped container has no namespace to look in).</summary>
    public IEnumerable<Place> LivePlaces => LabPlaces.Where(p => TargetOrNull(p) is not null);

    /// <summary>Above this many running places a diagnosis looks only in <see cref="NearPlaces"/>, not in every one.</summary>
    public const int LookEverywhereUpTo = 16;

    /// <summary>
    /// Where counters and tables are read: every running place in a lab of up to <see cref="LookEverywhereUpTo"/>;
    /// in a larger one (a star of hundreds of containers) the sender, the lab's host and named namespaces (where
    /// routing, rules and bridges usually are) and the destination's owner when already known. Reading every
    /// container for each failed ping made a large lab's diagnoses take minutes (issue 11).
    /// </summary>
    public IReadOnlyList<Place> NearPlaces
    {
        get
        {
            var live = LivePlaces.ToList();
            if (live.Count <= LookEverywhereUpTo) return live;
            var owner = _owners.TryGetValue(To, out var known) ? known : null;
            return [.. live.Where(p => p == From || p.Kind != PlaceKind.Container || p == owner)];
        }
    }

    /// <summary>A container that is not running (stopped by the lab) has no target: it is skipped.</summary>
    public NetTarget? TargetOrNull(Place place) =>
        place.Kind == PlaceKind.Container && !session.Containers.ContainsKey(place.Name) ? null : session.Target(place);

    public NetTarget Target(Place place) => session.Target(place);

    /// <summary>The command's standard output, or null when it failed.</summary>
    public async Task<string?> RunAsync(IReadOnlyList<string>? argv, CancellationToken ct)
    {
        if (argv is null) return null;
        var outcome = await runner.RunAsync(argv, CommandPurpose.Check, ct);
        return outcome.Succeeded ? outcome.Stdout : null;
    }

    /// <summary>The whole outcome (a refusal's message is evidence: "RTNETLINK answers: Network is unreachable").</summary>
    public Task<CommandOutcome> OutcomeAsync(IReadOnlyList<string> argv, CancellationToken ct) => runner.RunAsync(argv, CommandPurpose.Check, ct);

    /// <summary>iproute2's JSON array, or null when the command failed or printed something else.</summary>
    public async Task<JsonElement?> JsonAsync(IReadOnlyList<string>? argv, CancellationToken ct)
    {
        var output = await RunAsync(argv, ct);
        if (string.IsNullOrWhiteSpace(output)) return null;
        try
        {
            var root = JsonDocument.Parse(output).RootElement;
            return root.ValueKind == JsonValueKind.Array ? root : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary><c>sysctl -n KEY</c> in a place, trimmed; null when it cannot be read there.</summary>
    public async Task<string?> SysctlAsync(Place place, string key, CancellationToken ct) =>
        (await RunAsync(TargetOrNull(place)?.Exec("sysctl", "-n", key), ct))?.Trim();

    /// <summary>A place's links (<c>ip -j link show</c>), empty when it cannot be read.</summary>
    public async Task<IReadOnlyList<JsonElement>> LinksAsync(Place place, CancellationToken ct) =>
        await JsonAsync(TargetOrNull(place)?.Ip("-j", "link", "show"), ct) is { } links ? [.. links.EnumerateArray()] : [];

    /// <summary>A place's addresses (<c>ip -j addr show</c>): per link, its IPv4 addresses with their prefix.</summary>
    public async Task<IReadOnlyList<(string Link, string Address, int Prefix)>> AddressesAsync(Place place, CancellationToken ct)
    {
        var json = await JsonAsync(TargetOrNull(place)?.Ip("-j", "addr", "show"), ct);
        if (json is not { } a) return [];
        var list = new List<(string, string, int)>();
        foreach (var link in a.EnumerateArray())
        {
            if (!link.TryGetProperty("addr_info", out var info) || info.ValueKind != JsonValueKind.Array) continue;
            foreach (var x in info.EnumerateArray())
                if (Str(x, "local") is { } local)
                    list.Add((Str(link, "ifname") ?? "?", local, x.TryGetProperty("prefixlen", out var p) && p.TryGetInt32(out var n) ? n : 32));
        }
        return list;
    }

    public async Task<bool> HasAddressAsync(Place place, string ip, CancellationToken ct) =>
        (await AddressesAsync(place, ct)).Any(x => x.Address == ip);

    /// <summary>The lab place that has the address <paramref name="ip"/>, or null (looked up once per address).</summary>
    public async Task<Place?> OwnerOfAsync(string ip, CancellationToken ct)
    {
        if (_owners.TryGetValue(ip, out var known)) return known;
        Place? owner = null;
        foreach (var place in LabPlaces)
            if (await HasAddressAsync(place, ip, ct))
            {
                owner = place;
                break;
            }
        _owners[ip] = owner;
        return owner;
    }

    /// <summary>The route a place takes to <paramref name="to"/> (<c>ip -j route get TO</c>), or the refusal's message.</summary>
    public async Task<(RouteHop? Hop, string Error)> RouteAsync(Place place, string to, CancellationToken ct, params string[] extra)
    {
        if (TargetOrNull(place) is not { } target) return (null, "not running");
        var outcome = await OutcomeAsync(target.Ip(["-j", "route", "get", to, .. extra]), ct);
        if (!outcome.Succeeded) return (null, outcome.Error);
        try
        {
            var root = JsonDocument.Parse(outcome.Stdout).RootElement;
            return root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0 ? (RouteHop.Of(root[0]), "") : (null, "no route printed");
        }
        catch (JsonException e)
        {
            return (null, e.Message);
        }
    }

    // ---------- counters around a second sending ----------

    /// <summary>
    /// The counters of the running places (<see cref="NearPlaces"/>), read before and after the probe is sent again: each place's
    /// <c>iptables-save -c</c> and IPReversePathFilter (<c>/proc/net/netstat</c>), and the neighbour table's table_fulls
    /// (<c>/proc/net/stat/arp_cache</c>, where this process can read it). Done once, whichever class asks first.
    /// </summary>
    public async Task<ProbeCounters> CountersAsync(CancellationToken ct)
    {
        if (_counters is not null) return _counters;
        var places = NearPlaces.ToList();
        var before = await SnapshotAsync(places, ct);
        var outcome = Probe.ResendAsync is null ? null : await Probe.ResendAsync(ct);
        var after = await SnapshotAsync(places, ct);
        return _counters = new ProbeCounters(places, before, after, outcome);
    }

    private async Task<CounterSnapshot> SnapshotAsync(List<Place> places, CancellationToken ct)
    {
        var iptables = new Dictionary<Place, string?>();
        var rpFilter = new Dictionary<Place, long?>();
        foreach (var place in places)
        {
            var target = Target(place);
            iptables[place] = await RunAsync(target.Exec("iptables-save", "-c"), ct);
            rpFilter[place] = NetstatCounter(await RunAsync(target.Exec("cat", "/proc/net/netstat"), ct), "TcpExt", "IPReversePathFilter");
        }
        var arpCache = ArpCacheStat.Parse(await RunAsync(["cat", "/proc/net/stat/arp_cache"], ct));
        return new CounterSnapshot(iptables, rpFilter, arpCache);
    }

    /// <summary>A counter of /proc/net/netstat or /proc/net/snmp: a line of names, then a line of values, both "Prefix: …".</summary>
    public static long? NetstatCounter(string? text, string prefix, string name)
    {
        if (text is null) return null;
        var lines = text.Split('\n').Where(l => l.StartsWith(prefix + ":", StringComparison.Ordinal)).ToList();
        for (var i = 0; i + 1 < lines.Count; i += 2)
        {
            var names = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = lines[i + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var at = Array.IndexOf(names, name);
            if (at > 0 && at < values.Length && long.TryParse(values[at], out var value)) return value;
        }
        return null;
    }

    /// <summary>Whether <paramref name="ip"/> is inside <paramref name="cidr"/> (a bare address is a /32).</summary>
    public static bool Contains(string cidr, string ip)
    {
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        var network = slash < 0 ? cidr : cidr[..slash];
        if (!IPAddress.TryParse(network, out var net) || !IPAddress.TryParse(ip, out var address)) return false;
        if (net.AddressFamily != AddressFamily.InterNetwork || address.AddressFamily != AddressFamily.InterNetwork) return false;
        var bits = slash < 0 ? 32 : int.TryParse(cidr[(slash + 1)..], out var b) ? b : -1;
        if (bits is < 0 or > 32) return false;
        var mask = bits == 0 ? 0u : uint.MaxValue << (32 - bits);
        return (ToUInt(net) & mask) == (ToUInt(address) & mask);
    }

    /// <summary>The network of an address with its prefix: 172.16.100.101/24 → 172.16.100.0/24.</summary>
    public static string Network(string ip, int prefix)
    {
        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        var value = ToUInt(IPAddress.Parse(ip)) & mask;
        return $"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}/{prefix}";
    }

    private static uint ToUInt(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return (uint)bytes[0] << 24 | (uint)bytes[1] << 16 | (uint)bytes[2] << 8 | bytes[3];
    }

    public static bool IsIpv6(string ip) => IPAddress.TryParse(ip, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6;
}

/// <summary>One line of a diagnosis: its class id when it is a class's finding or fix, null for what was seen on the way.</summary>
public sealed record Finding(string? Class, string Text);

/// <summary>The first hop of <c>ip -j route get</c>: the link it leaves by, the gateway (null: on-link), the source address.</summary>
internal sealed record RouteHop(string Dev, string? Gateway, string? Source, int? Mtu, string? Type = null)
{
    /// <summary>An address of the sender itself ("type":"local", through lo): no link and no ARP on the way.</summary>
    public bool Local => Type == "local";

    public static RouteHop Of(JsonElement hop)
    {
        int? mtu = null;
        if (hop.TryGetProperty("metrics", out var metrics) && metrics.ValueKind == JsonValueKind.Array)
            foreach (var m in metrics.EnumerateArray())
                if (m.ValueKind == JsonValueKind.Object && m.TryGetProperty("mtu", out var v) && v.TryGetInt32(out var n)) mtu = n;
        return new RouteHop(Str(hop, "dev") ?? "?", Str(hop, "gateway"), Str(hop, "prefsrc"), mtu, Str(hop, "type"));
    }
}

/// <summary>The global neighbour table's statistics (/proc/net/stat/arp_cache: hex columns, one row per CPU).</summary>
internal sealed record ArpCacheStat(long Entries, long TableFulls)
{
    public static ArpCacheStat? Parse(string? text)
    {
        if (text is null) return null;
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 2) return null;
        var names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var entries = Array.IndexOf(names, "entries");
        var fulls = Array.IndexOf(names, "table_fulls");
        if (entries < 0 || fulls < 0) return null;
        long entryCount = 0, fullCount = 0;
        foreach (var row in lines.Skip(1))
        {
            var values = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (values.Length <= Math.Max(entries, fulls)) continue;
            if (!long.TryParse(values[entries], System.Globalization.NumberStyles.HexNumber, null, out var e) ||
                !long.TryParse(values[fulls], System.Globalization.NumberStyles.HexNumber, null, out var f)) return null;
            entryCount = e; // the same table-wide count on every row
            fullCount += f;
        }
        return new ArpCacheStat(entryCount, fullCount);
    }
}

internal sealed record CounterSnapshot(IReadOnlyDictionary<Place, string?> IptablesSave, IReadOnlyDictionary<Place, long?> ReversePathFilter, ArpCacheStat? ArpCache);

/// <summary>The counters before and after the probe was sent again, and what sending it said.</summary>
internal sealed record ProbeCounters(IReadOnlyList<Place> Places, CounterSnapshot Before, CounterSnapshot After, CommandOutcome? Resent);
