using System.Collections.Immutable;
using System.Text.Json;
using LabRunner.Execution;
using LabRunner.Model;

namespace LabRunner.MultiHost;

/// <summary>What the controller of a lab across hosts was told (<c>labrunner run LAB --inventory FILE</c>).</summary>
public sealed record MultiHostOptions
{
    public string? Runtime { get; init; }
    public string? Driver { get; init; }
    public bool Verbose { get; init; }
    /// <summary>The lab's id; each host's part is <c>ID-HOST</c>. Random when null.</summary>
    public string? LabId { get; init; }
}

/// <summary>
/// The controller of a lab across hosts (docs/MULTI-HOST.md). Every host is reached with the system's ssh
/// (<see cref="SshTransport"/>) and first asked for its labrunner; one that does not answer is exit 3 with nothing
/// built anywhere. Then each host runs its part (<see cref="HostParts"/>) with its own labrunner (<c>labrunner part</c>:
/// its own journal, written and fsync'd on that host before each action), and the controller keeps them in step: at
/// each barrier (before a step, before its expectations, and before the teardown: the part's last, empty step) it waits until every host is there, then
/// lets all go on — so a ping from a container on one host to one on another runs only once both are built, and the
/// teardowns run in parallel. A host that fails (or whose connection drops) ends the lab: the others are told to quit
/// at their next barrier. The controller's death closes every part's input: each host tears its part down by itself.
/// </summary>
public sealed class MultiHostRun(Scenario lab, string labText, Inventory inventory, TextWriter output, MultiHostOptions options)
{
    private readonly ICommandRunner _runner = new CliWrapCommandRunner();

    public async Task<int> RunAsync(CancellationToken interrupt)
    {
        var hosts = inventory.For(lab);
        var id = options.LabId ?? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
        var control = ControlDirectories.Create(id);
        var ssh = new SshTransport(inventory.SshConfig, control);
        try
        {
            output.WriteLine($"lab {lab.Name} across {hosts.Length} hosts ({string.Join(", ", hosts.Select(h => $"{h.Name}: {h.Ssh}"))}), id {id}");
            if (await UnreachableAsync(hosts, ssh, interrupt) is { } problem)
            {
                output.WriteLine(problem);
                return 3;
            }
            return await RunPartsAsync(hosts, ssh, id, interrupt);
        }
        finally
        {
            await ControlDirectories.RemoveAsync(control, ssh, hosts, _runner);
        }
    }

    /// <summary>Every host answers with its labrunner's version, or the first problem as an environment error (exit 3).</summary>
    private async Task<string?> UnreachableAsync(ImmutableArray<InventoryHost> hosts, SshTransport ssh, CancellationToken ct)
    {
        var probes = await Task.WhenAll(hosts.Select(async h => (Host: h, Outcome: await _runner.RunAsync([.. ssh.Labrunner(h, "--version")], CommandPurpose.Check, ct))));
        var bad = probes.Where(p => !p.Outcome.Succeeded).ToList();
        if (bad.Count == 0)
        {
            foreach (var (h, outcome) in probes) output.WriteLine($"  {h.Name}: labrunner {outcome.Stdout.Trim()}");
            return null;
        }
        return string.Join('\n', bad.Select(p =>
            $"environment: host {p.Host.Name} ({p.Host.Ssh}) does not answer with labrunner (exit {p.Outcome.ExitCode}): {p.Outcome.Error}\n" +
            $"fix: check `ssh{(inventory.SshConfig is null ? "" : $" -F {inventory.SshConfig}")} {p.Host.Ssh} {string.Join(' ', p.Host.Labrunner)} --version`; nothing was built on any host"));
    }

    private async Task<int> RunPartsAsync(ImmutableArray<InventoryHost> hosts, SshTransport ssh, string id, CancellationToken interrupt)
    {
        var parts = hosts.Select(h => new PartSession(h, ssh.Labrunner(h, PartArguments(h, id)))).ToList();
        foreach (var part in parts) part.Send(HostParts.Encode(HostParts.PartText(labText, part.Host.Name, part.Host.Uplink)));
        // Ctrl-C, SIGTERM or SIGHUP: every part's input ends, so every host tears down at once; we wait for them.
        using var onInterrupt = interrupt.Register(() => parts.ForEach(p => p.CloseInput()));

        // Two barriers a step, the part's last (empty) step included: its first is the one before the teardowns.
        var barriers = Enumerable.Range(1, lab.Steps.Length + 1).SelectMany(i => new[] { ("step", i), ("expectations", i) }).ToList();
        var quitting = false;
        foreach (var (before, position) in barriers)
        {
            // Every host to this barrier: relay what it reports on the way (the previous step's results), and serve the
            // pings other hosts' captures wait for.
            var arrived = await ToBarrierTogetherAsync(parts, before, position);
            if (interrupt.IsCancellationRequested) break;
            if (arrived.All(a => a))
            {
                if (position <= lab.Steps.Length && before == "step")
                    output.WriteLine($"Step {position}/{lab.Steps.Length}: {lab.Steps[position - 1].Title}");
                parts.ForEach(p => p.Send("go"));
                continue;
            }
            quitting = true;
            foreach (var (part, at) in parts.Zip(arrived).Where(x => x.Second)) part.Send("quit");
            break;
        }
        // Every part ends (its teardown done): read what is left of its events, then its exit code.
        var ends = await Task.WhenAll(parts.Select(async p =>
        {
            while (await p.NextEventAsync(CancellationToken.None) is { } e) Relay(p, e);
            return (Part: p, Exit: await p.ExitCodeAsync());
        }));
        return await ConcludeAsync(ends, ssh, id, quitting || interrupt.IsCancellationRequested, interrupt.IsCancellationRequested);
    }

    private string[] PartArguments(InventoryHost h, string id) =>
    [
        "part", "--lab-id", $"{id}-{h.Name}",
        .. h.Uplink is null ? Array.Empty<string>() : ["--uplink", h.Uplink],
        .. options.Runtime is null ? Array.Empty<string>() : ["--runtime", options.Runtime],
        .. options.Driver is null ? Array.Empty<string>() : ["--driver", options.Driver],
    ];

    /// <summary>
    /// Every part to the barrier asked for; true for each that got there, false for one that ended. A part whose capture
    /// waits for another host's ping (<c>awaiting</c> <c>traffic</c>) is served once that host is at the barrier: it is
    /// sent <c>ping FROM TO COUNT</c>, and its outcome goes back to the capturing part (<c>done EXIT BASE64</c>).
    /// </summary>
    private async Task<bool[]> ToBarrierTogetherAsync(List<PartSession> parts, string before, int position)
    {
        var pending = parts.ToDictionary(p => p, p => ToBarrierAsync(p, before, position));
        var arrived = new Dictionary<PartSession, bool>();
        var traffic = new List<(PartSession Capturer, JsonElement Ping)>();
        while (pending.Count > 0 || traffic.Count > 0)
        {
            foreach (var (capturer, ping) in traffic.ToList())
            {
                var on = ping.GetProperty("on").GetString();
                var pinger = parts.FirstOrDefault(p => p.Host.Name == on);
                if (pinger is not null && !arrived.ContainsKey(pinger) && pending.Count > 0) continue; // not there yet
                traffic.Remove((capturer, ping));
                var (exit, stdout) = pinger is not null && arrived.GetValueOrDefault(pinger) ? await PingOnAsync(pinger, ping) : (255, "");
                if (exit == 255 && stdout.Length == 0)
                    output.WriteLine($"  ! [{capturer.Host.Name}] its capture's ping on {on} could not run (that host is not at the barrier)");
                capturer.Send($"done {exit} {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(stdout))}");
                pending[capturer] = ToBarrierAsync(capturer, before, position);
            }
            if (pending.Count == 0) break;
            var done = await Task.WhenAny(pending.Values);
            var part = pending.First(kv => kv.Value == done).Key;
            pending.Remove(part);
            var result = await done;
            if (result.Traffic is { } request) traffic.Add((part, request));
            else arrived[part] = result.Arrived;
        }
        return [.. parts.Select(p => arrived.GetValueOrDefault(p))];
    }

    /// <summary>Has <paramref name="pinger"/> (at a barrier) run a capture's ping for another host; its exit code and output.</summary>
    private async Task<(int Exit, string Stdout)> PingOnAsync(PartSession pinger, JsonElement ping)
    {
        pinger.Send($"ping {ping.GetProperty("from").GetString()} {ping.GetProperty("to").GetString()} {ping.GetProperty("count").GetInt32()}");
        while (await pinger.NextEventAsync(CancellationToken.None) is { } e)
        {
            if (PartSession.Event(e) == "traffic-finished") return (e.GetProperty("exitCode").GetInt32(), Text(e, "stdout"));
            Relay(pinger, e);
        }
        return (255, "");
    }

    private sealed record BarrierResult(bool Arrived, JsonElement? Traffic);

    /// <summary>Reads the part's events up to the barrier asked for, its end, or a capture waiting for another host's ping.</summary>
    private async Task<BarrierResult> ToBarrierAsync(PartSession part, string before, int position)
    {
        while (await part.NextEventAsync(CancellationToken.None) is { } e)
        {
            if (PartSession.Event(e) == "awaiting" && e.GetProperty("before").GetString() == "traffic")
                return new BarrierResult(false, e.GetProperty("traffic").Clone());
            if (PartSession.Event(e) == "awaiting")
            {
                var at = e.GetProperty("before").GetString();
                var pos = e.GetProperty("step").GetProperty("position").GetInt32();
                if (at == before && pos == position) return new BarrierResult(true, null);
                output.WriteLine($"  ! [{part.Host.Name}] is at the barrier before {at} {pos}, not before {before} {position}: ending the lab");
                return new BarrierResult(false, null);
            }
            Relay(part, e);
            if (PartSession.Event(e) is "result" or "error") return new BarrierResult(false, null);
        }
        return new BarrierResult(false, null);
    }

    /// <summary>What a person needs of a host's events: failed actions, every expectation, the teardown, errors.</summary>
    private void Relay(PartSession part, JsonElement e)
    {
        var host = part.Host.Name;
        switch (PartSession.Event(e))
        {
            case "action-finished" when !e.GetProperty("ok").GetBoolean():
                output.WriteLine($"  ✗ [{host}] {e.GetProperty("keyword").GetString()} ({Text(e, "source")}): {Text(e, "status")}: {Text(e, "observed")}");
                break;
            case "action-finished" when options.Verbose:
                output.WriteLine($"    [{host}] {e.GetProperty("keyword").GetString()} done");
                break;
            case "expectation-finished":
                var held = e.GetProperty("held").GetBoolean();
                output.WriteLine($"  {(held ? "✓" : "✗")} [{host}] {Text(e, "expected")}" + (held ? "" : $"; observed: {Text(e, "observed")}"));
                if (e.TryGetProperty("why", out var why) && why.ValueKind == JsonValueKind.Array)
                    foreach (var line in why.EnumerateArray()) output.WriteLine($"      why: {line.GetString()}");
                break;
            case "command" when options.Verbose:
                output.WriteLine($"    [{host}] $ {string.Join(' ', e.GetProperty("argv").EnumerateArray().Select(a => a.GetString()))} → exit {e.GetProperty("exitCode").GetInt32()}");
                break;
            case "teardown-finished":
                var clean = e.GetProperty("clean").GetBoolean();
                output.WriteLine($"  [{host}] teardown: " + (clean ? "nothing of the lab is left on this host" : $"left behind: {e.GetProperty("leftovers")}"));
                break;
            case "error":
                output.WriteLine($"  ✗ [{host}] {Text(e, "message")}" + (Text(e, "fix") is { Length: > 0 } fix ? $"\n    fix: {fix}" : ""));
                break;
        }
    }

    private static string Text(JsonElement e, string field) =>
        e.TryGetProperty(field, out var v) ? v.ValueKind switch { JsonValueKind.String => v.GetString() ?? "", JsonValueKind.Null => "", _ => v.ToString() } : "";

    /// <summary>
    /// The lab's exit code from its parts'. A host whose ssh failed (255: the connection dropped) may still hold its
    /// part: it is asked over a new connection to clean the part (its journal is there); if that cannot be done, the lab
    /// is exit 4 naming the host, with the command that finishes the job.
    /// </summary>
    private async Task<int> ConcludeAsync(IReadOnlyList<(PartSession Part, int Exit)> ends, SshTransport ssh, string id, bool stoppedEarly, bool interrupted)
    {
        var codes = new List<int>();
        var left = new List<string>();
        foreach (var (part, exit) in ends)
        {
            var code = part.Result is { } r && r.TryGetProperty("exitCode", out var c) ? c.GetInt32() : exit;
            if (part.Result is null)
            {
                // No result: the part's labrunner died, or the connection dropped. Clean it from its journal on the host.
                output.WriteLine($"  ✗ [{part.Host.Name}] the part ended without a result (ssh exit {exit}){Tail(part.Stderr)}; cleaning it on the host");
                var clean = await HostsCleaner.CleanHostAsync(ssh, part.Host, $"{id}-{part.Host.Name}", _runner, CancellationToken.None);
                foreach (var line in clean.Lines.Prepend(clean.Summary)) output.WriteLine($"    [{part.Host.Name}] {line}");
                if (!clean.Clean) left.Add($"{part.Host.Name}: {clean.Summary}");
                code = clean.Clean ? 1 : 4;
            }
            else if (code == 4) left.Add($"{part.Host.Name}: see its teardown above");
            codes.Add(code);
        }
        var result = left.Count > 0 ? 4
            : codes.FirstOrDefault(c => c is 129 or 130 or 143) is var signal and > 0 && interrupted ? signal
            : codes.Any(c => c != 0) ? codes.First(c => c != 0)
            : stoppedEarly ? 1 : 0;
        if (left.Count > 0)
            output.WriteLine($"LEFT BEHIND on {string.Join("; ", left)}\n  run `labrunner clean --hosts {id} --inventory {inventory.File}` once the hosts answer");
        output.WriteLine(result == 0 ? $"PASSED on every host ({string.Join(", ", ends.Select(e => e.Part.Host.Name))}); nothing of lab {id} is left on any"
            : $"FAILED (exit {result}): {string.Join(", ", ends.Zip(codes).Select(x => $"{x.First.Part.Host.Name} exit {x.Second}"))}");
        return result;
    }

    private static string Tail(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? "" : ": " + string.Join(" | ", lines.TakeLast(3));
    }
}
