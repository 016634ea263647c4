using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Runtimes;

using static LabRunner.Execution.IpJson;

namespace LabRunner.Engine;

public sealed record ExpectationResult(bool Held, string Expected, string Observed, int Attempts, TimeSpan Elapsed)
{
    /// <summary>For a failed expectation that can be explained (a ping that got no answer): what was found, one finding a line.</summary>
    public IReadOnlyList<string> Diagnosis { get; init; } = [];
}

/// <summary>
/// Checks expectations against the live host. Each is observed again and again until it holds or its
/// deadline passes: no fixed sleeps, so ARP resolution or carrier coming up late never makes a lab flaky.
/// Inspection uses iproute2's JSON output from outside the namespace; pings run inside the container.
/// </summary>
/// <param name="labPlaces">The lab's places (host, its namespaces, its containers), where a diagnosis may look.</param>
public sealed partial class ExpectationEvaluator(LabSession session, ICommandRunner runner, IContainerRuntime runtime, Journal.LabJournal journal,
    Func<IReadOnlyList<Place>> labPlaces)
{
    private readonly PlaceCommands _places = new(session, runner, runtime);
    private readonly PacketCapture _capture = new(session, runner, new PlaceCommands(session, runner, runtime), journal);
    private readonly PingDiagnosis _diagnosis = new(session, runner, labPlaces);

    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(100);

    public async Task<ExpectationResult> EvaluateAsync(Expectation expectation, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var attempts = 0;
        while (true)
        {
            attempts++;
            var (held, observed) = await ObserveAsync(expectation, ct);
            if (held || watch.Elapsed >= expectation.Within)
            {
                var result = new ExpectationResult(held, session.Expand(expectation.Describe()), observed, attempts, watch.Elapsed);
                // A ping that should have been answered is the failure people ask "why?" about: look along its path.
                if (!held && !runner.IsDryRun && expectation is PingExpectation { Succeeds: true } ping)
                    result = result with { Diagnosis = await _diagnosis.DiagnoseAsync(ping, ct) };
                return result;
            }
            await Task.Delay(RetryInterval, ct);
        }
    }

    private Task<(bool Held, string Observed)> ObserveAsync(Expectation expectation, CancellationToken ct) => expectation switch
    {
        PingExpectation e => PingAsync(e, ct),
        NeighborExpectation e => NeighborAsync(e, ct),
        LinkExpectation e => LinkAsync(e, ct),
        LinksExpectation e => LinksAsync(e, ct),
        AddressExpectation e => AddressAsync(e, ct),
        RouteExpectation e => RouteAsync(e, ct),
        SysctlExpectation e => SysctlAsync(e, ct),
        IptablesPolicyExpectation e => IptablesPolicyAsync(e, ct),
        BridgePortsExpectation e => BridgePortsAsync(e, ct),
        NetnsExpectation e => NetnsAsync(e, ct),
        CommandExpectation e => CommandAsync(e, ct),
        CaptureExpectation e => _capture.ObserveAsync(e, ct),
        _ => throw new NotSupportedException($"no evaluator for expectation {expectation.Keyword}"),
    };

    private async Task<(bool, string)> PingAsync(PingExpectation e, CancellationToken ct)
    {
        var outcome = await _places.PingAsync(e.From, e.To, e.Count, CommandPurpose.Check, ct);
        var match = PingSummary().Match(outcome.Stdout);
        var received = match.Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
        var observed = match.Success
            ? $"{match.Groups[1].Value} sent, {received} received" + (received == 0 ? " (100% packet loss)" : "")
            : $"ping did not run: {outcome.Error}";
        return (e.Succeeds ? received > 0 : match.Success && received == 0 || !match.Success && outcome.ExitCode is > 0 and < 124, observed);
    }

    private async Task<(bool, string)> NeighborAsync(NeighborExpectation e, CancellationToken ct)
    {
        var t = session.Target(e.In);
        var outcome = await runner.RunAsync(t.Ip("-j", "neigh", "show", "to", e.Ip), CommandPurpose.Check, ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var entry = Json(outcome.Stdout).EnumerateArray()
            .FirstOrDefault(n => Str(n, "dst") == e.Ip && Str(n, "lladdr") is not null && !States(n).Any(s => s is "FAILED" or "INCOMPLETE"));
        if (entry.ValueKind == JsonValueKind.Undefined) return (false, $"no resolved entry for {e.Ip} in {e.In}");
        var mac = Str(entry, "lladdr")!;
        var seen = $"{e.Ip} at {mac} ({string.Join(",", States(entry))})";
        var expectedMac = e.Mac;
        if (e.MacOfLink is not null)
        {
            var link = await LinkJsonAsync(session.Target(e.MacOfIn!), e.MacOfLink, ct);
            if (link is null) return (false, $"{seen}; {e.MacOfLink} not found in {e.MacOfIn}");
            expectedMac = Str(link.Value, "address");
            seen += $"; {e.MacOfLink} in {e.MacOfIn!.Name} has {expectedMac}";
        }
        return (expectedMac is null || string.Equals(mac, expectedMac, StringComparison.OrdinalIgnoreCase), seen);
    }

    private async Task<JsonElement?> LinkJsonAsync(NetTarget t, string name, CancellationToken ct)
    {
        var outcome = await runner.RunAsync(t.Ip("-j", "-d", "link", "show", "dev", name), CommandPurpose.Check, ct);
        return outcome.Succeeded ? Json(outcome.Stdout).EnumerateArray().FirstOrDefault() : null;
    }

    private async Task<(bool, string)> LinkAsync(LinkExpectation e, CancellationToken ct)
    {
        var t = session.Target(e.In);
        var link = await LinkJsonAsync(t, e.Name, ct);
        if (link is not { } l) return (!e.Present, $"{e.Name} absent from {e.In}");
        if (!e.Present) return (false, $"{e.Name} present in {e.In}");

        var state = Str(l, "operstate") ?? "UNKNOWN";
        var flags = l.TryGetProperty("flags", out var f) ? f.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [];
        var master = Str(l, "master");
        var seen = new List<string> { $"state {state}", $"flags <{string.Join(",", flags)}>", master is null ? "no master" : $"master {master}" };
        var held = (e.State is null || e.State == state)
                   && e.Flags.All(flags.Contains)
                   && (e.Master is null || e.Master == master)
                   && (!e.NoMaster || master is null);

        if (e.MacOfLink is not null)
        {
            var mac = Str(l, "address");
            var other = await LinkJsonAsync(session.Target(e.MacOfIn!), e.MacOfLink, ct);
            var otherMac = other is { } o ? Str(o, "address") : null;
            seen.Add($"MAC {mac}" + (otherMac is null ? $"; {e.MacOfLink} not found in {e.MacOfIn}" : $", {e.MacOfLink} in {e.MacOfIn!.Name} has {otherMac}"));
            held &= otherMac is not null && string.Equals(mac, otherMac, StringComparison.OrdinalIgnoreCase);
        }
        if (e.Peer is not null || e.PeerIn is not null)
        {
            var (peerName, peerWhere) = await PeerAsync(l, e, ct);
            seen.Add($"peer {peerName ?? "?"} in {peerWhere}");
            held &= (e.Peer is null || e.Peer == peerName) && (e.PeerIn is null || peerWhere == e.PeerIn.ToString());
        }
        return (held, string.Join(", ", seen));
    }

    /// <summary>
    /// A veth's peer: in the same namespace JSON names it ("link"); in another it gives only the peer's ifindex
    /// and a netns id, so the candidate namespace is searched for the link whose index and back-pointer match.
    /// </summary>
    private async Task<(string? Name, string Where)> PeerAsync(JsonElement link, LinkExpectation e, CancellationToken ct)
    {
        if (!link.TryGetProperty("link_netnsid", out _))
            return (Str(link, "link"), e.In.ToString());
        if (e.PeerIn is null) return (null, "another namespace");
        var ifindex = link.GetProperty("ifindex").GetInt32();
        var peerIndex = link.TryGetProperty("link_index", out var li) ? li.GetInt32() : -1;
        var outcome = await runner.RunAsync(session.Target(e.PeerIn).Ip("-j", "link", "show"), CommandPurpose.Check, ct);
        if (outcome.Succeeded)
            foreach (var candidate in Json(outcome.Stdout).EnumerateArray())
                if (candidate.GetProperty("ifindex").GetInt32() == peerIndex &&
                    candidate.TryGetProperty("link_index", out var back) && back.GetInt32() == ifindex &&
                    candidate.TryGetProperty("link_netnsid", out _))
                    return (Str(candidate, "ifname"), e.PeerIn.ToString());
        return (null, $"a namespace other than {e.PeerIn}");
    }

    private async Task<(bool, string)> LinksAsync(LinksExpectation e, CancellationToken ct)
    {
        var outcome = await runner.RunAsync(session.Target(e.In).Ip("-j", "link", "show"), CommandPurpose.Check, ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var names = Json(outcome.Stdout).EnumerateArray().Select(l => Str(l, "ifname") ?? "").Order().ToList();
        return (names.SequenceEqual(e.Exactly.Order()), $"[{string.Join(", ", names)}]");
    }

    private async Task<(bool, string)> AddressAsync(AddressExpectation e, CancellationToken ct)
    {
        var outcome = await runner.RunAsync(session.Target(e.In).Ip("-j", "addr", "show", "dev", e.Device), CommandPurpose.Check, ct);
        if (!outcome.Succeeded) return (!e.Present, outcome.Error);
        var addresses = Json(outcome.Stdout).EnumerateArray()
            .SelectMany(l => l.TryGetProperty("addr_info", out var a) ? a.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Where(a => Str(a, "family") == "inet")
            .Select(a => $"{Str(a, "local")}/{a.GetProperty("prefixlen").GetInt32()}")
            .ToList();
        return (addresses.Contains(e.Cidr) == e.Present, addresses.Count == 0 ? "no IPv4 address" : string.Join(", ", addresses));
    }

    private async Task<(bool, string)> RouteAsync(RouteExpectation e, CancellationToken ct)
    {
        var outcome = await runner.RunAsync(session.Target(e.In).Ip("-j", "route", "show"), CommandPurpose.Check, ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var routes = Json(outcome.Stdout).EnumerateArray().Select(r =>
            (Dst: Str(r, "dst") ?? "", Dev: Str(r, "dev"), Via: Str(r, "gateway"))).ToList();
        var destination = e.Destination.EndsWith("/32", StringComparison.Ordinal) ? e.Destination[..^3] : e.Destination;
        var found = routes.Any(r => r.Dst == destination && (e.Device is null || r.Dev == e.Device) && (e.Via is null || r.Via == e.Via));
        var seen = routes.Count == 0 ? "no routes" : string.Join("; ", routes.Select(r => r.Dst + (r.Via is null ? "" : $" via {r.Via}") + (r.Dev is null ? "" : $" dev {r.Dev}")));
        return (found == e.Present, seen);
    }

    private async Task<(bool, string)> SysctlAsync(SysctlExpectation e, CancellationToken ct)
    {
        var outcome = await runner.RunAsync(session.Target(e.In).Exec("sysctl", "-n", e.Key), CommandPurpose.Check, ct);
        // Multi-value keys (ip_local_port_range) print tab-separated; compare words, as sysctl -w takes them.
        var value = outcome.Succeeded ? Words(outcome.Stdout) : outcome.Error;
        return (outcome.Succeeded && value == Words(e.Value), $"{e.Key} = {value}");
    }

    private async Task<(bool, string)> IptablesPolicyAsync(IptablesPolicyExpectation e, CancellationToken ct)
    {
        var outcome = await runner.RunAsync(session.Target(e.In).Exec("iptables", "-t", e.Table, "-S", e.Chain), CommandPurpose.Check, ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var policy = ActionExecutor.ParsePolicy(outcome.Stdout, e.Chain);
        return (policy == e.Policy, $"policy {policy ?? "none"}");
    }

    private async Task<(bool, string)> BridgePortsAsync(BridgePortsExpectation e, CancellationToken ct)
    {
        var outcome = await runner.RunAsync(session.Target(e.In).Ip("-j", "link", "show", "master", e.Bridge), CommandPurpose.Check, ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var ports = Json(outcome.Stdout).EnumerateArray().Select(l => Str(l, "ifname") ?? "").Order().ToList();
        return (ports.SequenceEqual(e.Ports.Order()), ports.Count == 0 ? "no ports" : $"[{string.Join(", ", ports)}]");
    }

    private async Task<(bool, string)> NetnsAsync(NetnsExpectation e, CancellationToken ct)
    {
        var name = e.Name is not null ? session.PhysicalNetns(e.Name) : session.Container(e.Container!).Pid;
        var outcome = await runner.RunAsync(["ip", "netns", "list"], CommandPurpose.Check, ct);
        var listed = outcome.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();
        var present = listed.Contains(name);
        return (present == e.Present, present ? $"{name} listed" : $"{name} not listed");
    }

    private async Task<(bool, string)> CommandAsync(CommandExpectation e, CancellationToken ct)
    {
        var outcome = await _places.RunAsync(e.In, [.. e.Argv.Select(session.Expand)], CommandPurpose.Check, ct);
        var contains = e.OutputContains is null ? null : session.Expand(e.OutputContains);
        var held = (e.ExitCode is null || outcome.ExitCode == e.ExitCode) && (contains is null || outcome.Output.Contains(contains, StringComparison.Ordinal));
        var output = outcome.Output.Trim().ReplaceLineEndings(" | ");
        return (held, $"exit {outcome.ExitCode}: {(output.Length > 300 ? output[..300] + "..." : output)}");
    }

    internal static string Words(string text) => string.Join(' ', text.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries));

    private static JsonElement Json(string text) =>
        string.IsNullOrWhiteSpace(text) ? JsonDocument.Parse("[]").RootElement : JsonDocument.Parse(text).RootElement;


    private static IEnumerable<string> States(JsonElement neighbor) =>
        neighbor.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.Array ? s.EnumerateArray().Select(x => x.GetString() ?? "") : [];

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) (?:packets )?received")]
    private static partial Regex PingSummary();
}
