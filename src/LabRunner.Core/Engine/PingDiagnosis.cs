using System.Text.Json;
using LabRunner.Execution;
using LabRunner.Model;

using static LabRunner.Execution.IpJson;

namespace LabRunner.Engine;

/// <summary>
/// Why a ping that should have been answered was not, found the way a trainer would look: the route the sender
/// takes, the state of the link it leaves by, whether ARP resolved the next hop (and whose MAC that is), then what
/// can drop a packet that layer 2 delivers: a bridge whose frames go through iptables (br_netfilter) into a
/// FORWARD chain that drops them — the article's section 3 —, a router that does not forward, a target that does
/// not have the address. Each finding is one line; the last says what to try. It only reads (ip -j, sysctl -n,
/// iptables -S), and never throws: a diagnosis that cannot look somewhere says so.
/// </summary>
internal sealed class PingDiagnosis(LabSession session, ICommandRunner runner, Func<IReadOnlyList<Place>> labPlaces)
{
    /// <summary>Why a ping from <paramref name="from"/> to <paramref name="to"/> (may hold ${...}) got no answer.</summary>
    public async Task<IReadOnlyList<string>> DiagnoseAsync(Place from, string to, CancellationToken ct)
    {
        var findings = new List<string>();
        try
        {
            await DiagnoseAsync(from, session.Expand(to), findings, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            findings.Add($"(the diagnosis stopped: {e.Message})");
        }
        return findings;
    }

    private async Task DiagnoseAsync(Place from, string to, List<string> findings, CancellationToken ct)
    {
        // IPv6 finds the next hop's MAC by neighbour discovery (ICMPv6), not ARP; ip route get and ip neigh take either family.
        var v6 = to.Contains(':');
        var resolution = v6 ? "neighbour discovery" : "ARP";
        var source = session.Target(from);
        var route = await JsonAsync(source.Ip("-j", "route", "get", to), ct);
        if (route is not { } r || r.GetArrayLength() == 0)
        {
            findings.Add($"{from.Name} has no route to {to}: give it an address in {to}'s subnet, or a default route");
            return;
        }
        var hop = r[0];
        var dev = Str(hop, "dev") ?? "?";
        var gateway = Str(hop, "gateway");
        var nextHop = gateway ?? to;
        findings.Add($"{from.Name} sends to {to} via {dev}" + (gateway is null ? " (on-link)" : $", through the gateway {gateway}") +
                     (Str(hop, "prefsrc") is { } src ? $", from {src}" : ""));

        var link = await JsonAsync(source.Ip("-j", "link", "show", "dev", dev), ct);
        var state = link is { } l && l.GetArrayLength() > 0 ? Str(l[0], "operstate") : null;
        if (state is not null and not ("UP" or "UNKNOWN"))
        {
            findings.Add($"{dev} in {from.Name} is {state}" + (state == "LOWERLAYERDOWN" ? ": its peer is down or not up yet (ip link set PEER up)" : ": bring it up (ip link set dev " + dev + " up)"));
            return;
        }

        var neighbors = await JsonAsync(source.Ip("-j", "neigh", "show", "to", nextHop, "dev", dev), ct);
        var entry = neighbors is { } n ? n.EnumerateArray().FirstOrDefault() : default;
        var mac = entry.ValueKind == JsonValueKind.Object ? Str(entry, "lladdr") : null;
        var states = entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.Array
            ? string.Join(",", s.EnumerateArray().Select(x => x.GetString())) : "none";
        if (mac is null)
        {
            findings.Add($"{resolution} for {nextHop} on {dev} got no answer (neighbour entry: {states}): layer 2 does not reach it; " +
                         "check that it is up, has that address, and that both ends are ports of the same bridge");
            await OwnerOfAddressAsync(nextHop, findings, ct);
            return;
        }
        var macOwner = await OwnerOfMacAsync(mac, ct);
        findings.Add($"{resolution} works: {nextHop} is at {mac}" + (macOwner is null ? "" : $" ({macOwner})") + ", so layer 2 reaches it");

        var filtered = await BridgeFiltersAsync(v6, findings, ct);
        if (gateway is not null) await RouterForwardsAsync(gateway, findings, ct);
        if (!filtered && gateway is null) await OwnerOfAddressAsync(to, findings, ct);
    }

    /// <summary>A bridge in a lab namespace whose IPv4 frames go through iptables (IPv6: ip6tables) into a FORWARD chain that drops them.</summary>
    private async Task<bool> BridgeFiltersAsync(bool v6, List<string> findings, CancellationToken ct)
    {
        var (tables, family) = v6 ? ("ip6tables", "IPv6") : ("iptables", "IPv4");
        var found = false;
        foreach (var place in labPlaces().Where(p => p.Kind != PlaceKind.Container))
        {
            var target = session.Target(place);
            var bridges = await JsonAsync(target.Ip("-j", "link", "show", "type", "bridge"), ct);
            if (bridges is not { } b || b.GetArrayLength() == 0) continue;
            var callIptables = await RunAsync(target.Exec("sysctl", "-n", $"net.bridge.bridge-nf-call-{tables}"), ct);
            if (callIptables?.Trim() != "1") continue;
            var forward = await RunAsync(target.Exec(tables, "-t", "filter", "-S", "FORWARD"), ct);
            if (forward is null) continue;
            var policy = Kinds.CommonFields.ParsePolicy(forward, "FORWARD");
            var accepts = forward.Split('\n').Count(line => line.StartsWith("-A FORWARD", StringComparison.Ordinal) && line.Contains("-j ACCEPT", StringComparison.Ordinal));
            if (policy != "DROP") continue;
            var names = string.Join(", ", b.EnumerateArray().Select(x => Str(x, "ifname")));
            findings.Add($"in {place}, bridged {family} frames of {names} go through {tables} (net.bridge.bridge-nf-call-{tables} = 1) " +
                         $"and the filter FORWARD policy is DROP{(accepts > 0 ? $" ({accepts} ACCEPT rule(s) do not cover this traffic)" : "")}: " +
                         "the bridge drops the ping between its ports (br_netfilter, as on a Docker host)");
            findings.Add($"try: sysctl -w net.bridge.bridge-nf-call-{tables}=0 in {place} (the article's fix), or an ACCEPT rule for this traffic in its FORWARD chain");
            found = true;
        }
        return found;
    }

    /// <summary>The gateway's namespace must forward IPv4 (an IPv6 gateway's: IPv6, a switch of its own).</summary>
    private async Task RouterForwardsAsync(string gateway, List<string> findings, CancellationToken ct)
    {
        var (key, family) = gateway.Contains(':') ? ("net.ipv6.conf.all.forwarding", "IPv6") : ("net.ipv4.ip_forward", "IPv4");
        foreach (var place in labPlaces())
        {
            if (!await HasAddressAsync(place, gateway, ct)) continue;
            var forwarding = (await RunAsync(session.Target(place).Exec("sysctl", "-n", key), ct))?.Trim();
            if (forwarding == "0")
            {
                findings.Add($"the gateway {gateway} is {place}, which does not forward {family} ({key} = 0)");
                findings.Add($"try: sysctl -w {key}=1 in {place}");
            }
            return;
        }
    }

    private async Task OwnerOfAddressAsync(string ip, List<string> findings, CancellationToken ct)
    {
        foreach (var place in labPlaces())
            if (await HasAddressAsync(place, ip, ct))
            {
                findings.Add($"{ip} is on {place}: check its route back to the sender, and its INPUT chain");
                return;
            }
        findings.Add($"no namespace or container of the lab has the address {ip}");
    }

    private async Task<bool> HasAddressAsync(Place place, string ip, CancellationToken ct)
    {
        var addresses = await JsonAsync(TargetOrNull(place)?.Ip("-j", "addr", "show"), ct);
        return addresses is { } a && a.EnumerateArray().Any(l => l.TryGetProperty("addr_info", out var info) &&
            info.EnumerateArray().Any(x => Str(x, "local") == ip));
    }

    private async Task<string?> OwnerOfMacAsync(string mac, CancellationToken ct)
    {
        foreach (var place in labPlaces())
        {
            var links = await JsonAsync(TargetOrNull(place)?.Ip("-j", "link", "show"), ct);
            if (links is not { } l) continue;
            foreach (var link in l.EnumerateArray())
                if (string.Equals(Str(link, "address"), mac, StringComparison.OrdinalIgnoreCase))
                    return $"{Str(link, "ifname")} in {place.Name}";
        }
        return null;
    }

    /// <summary>A container that is not running (stopped by the lab) has no target: it is skipped.</summary>
    private NetTarget? TargetOrNull(Place place) =>
        place.Kind == PlaceKind.Container && !session.Containers.ContainsKey(place.Name) ? null : session.Target(place);

    private async Task<JsonElement?> JsonAsync(IReadOnlyList<string>? argv, CancellationToken ct)
    {
        if (argv is null) return null;
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

    private async Task<string?> RunAsync(IReadOnlyList<string> argv, CancellationToken ct)
    {
        var outcome = await runner.RunAsync(argv, CommandPurpose.Check, ct);
        return outcome.Succeeded ? outcome.Stdout : null;
    }

}
