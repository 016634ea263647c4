using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Model;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

/// <summary>
/// One attempt at a capture expectation: tcpdump on every link at once (each in its link's namespace,
/// writing a pcap file in the lab's state directory), the ping, tcpdump stopped, then each filter counted with
/// <c>tcpdump -r FILE -- FILTER</c>. Packets are parsed and filters compiled by tcpdump/libpcap, the reference for
/// both: LabRunner parses no packet itself.
/// </summary>
/// <remarks>
/// A capture is a process the lab started, so it is journalled like a process-runtime container: labelled in its
/// environment (LABRUNNER_CONTAINER=ID/capture-N) and recorded before it starts, so teardown and `labrunner clean`
/// stop it even after a crash, and the host snapshot sees it if it were ever left.
/// </remarks>
internal sealed class PacketCapture(LabSession session, ICommandRunner runner, PlaceCommands places, LabJournal journal)
{
    /// <summary>What tcpdump prints to stderr once its capture socket is bound: traffic may start.</summary>
    private const string ListeningLine = "listening on";

    private int _captures;
    private List<CapturedPackets> _kept = [];

    /// <summary>
    /// Keep each capture's packets for a bug bundle (<see cref="LabOptions.KeepCaptures"/>, set by <c>--bundle</c>): the
    /// pcap file's bytes are read before it is deleted, as always, right after counting, so no file outlives the
    /// expectation (nor the teardown, which deletes the state directory). A file larger than
    /// <see cref="Reporting.BugBundle.MaxCaptureBytes"/> is not read: its size and why it is left out are kept instead.
    /// </summary>
    public bool Keep { get; set; }

    /// <summary>The packets of the last attempt (<see cref="Keep"/>), one entry per capture point that started; taken once.</summary>
    public IReadOnlyList<CapturedPackets> TakeKept()
    {
        var kept = _kept;
        _kept = [];
        return kept;
    }

    public async Task<(bool Held, string Observed)> ObserveAsync(CaptureTraffic traffic, System.Collections.Immutable.ImmutableArray<CapturePoint> on, CancellationToken ct)
    {
        var directory = journal.Directory ?? "<lab state dir>";
        var n = Interlocked.Increment(ref _captures);
        _kept = []; // an earlier attempt's packets are not what this attempt saw
        var started = new List<Running>();
        CommandOutcome? ping = null;
        try
        {
            foreach (var (point, i) in on.Select((p, i) => (p, i)))
            {
                var file = Path.Combine(directory, $"capture-{n}-{i + 1}-{point.Link}.pcap");
                var label = $"{session.LabId}/capture-{n}-{i + 1}";
                // Write-ahead, as for a container: the undo finds the capture by its label.
                journal.Append(new UndoRemoveContainer($"stop packet capture on {point.Link}", "process", label) { Resource = ResourceRef.ForCapture(label) });
                // -Z root: Debian's tcpdump would otherwise drop to user tcpdump and fail to write in the root-only state dir.
                // --immediate-mode: packets reach the file at once, so none is still in a kernel buffer when it is stopped.
                var argv = session.Target(point.In).Exec("tcpdump", "-n", "-Z", "root", "--immediate-mode", "-U", "-i", point.Link, "-w", file);
                var command = await runner.StartAsync(argv, CommandPurpose.Observe,
                    new BackgroundStart(ListeningLine) { Environment = new Dictionary<string, string> { [ProcessRuntime.LabelVariable] = label } }, ct);
                started.Add(new Running(point, file, command, label));
                if (!command.Ready) break;
            }
            if (started.All(s => s.Command.Ready))
                ping = traffic.OnHost is null ? await RunPingAsync(traffic, ct)
                    : session.OtherHostTraffic is { } other ? await other(traffic, ct)
                    : new CommandOutcome(2, "", $"the ping runs on host {traffic.OnHost}: only a lab run across hosts (--inventory) can run it", TimeSpan.Zero);
        }
        finally
        {
            foreach (var s in started)
            {
                s.Stopped = await s.Command.StopAsync();
                journal.Release(ResourceRef.ForCapture(s.Label)); // stopped: the undo is no longer owed
            }
        }

        var notStarted = started.Count < on.Length || started.Any(s => !s.Command.Ready);
        var observed = new List<string>();
        var held = !notStarted;
        foreach (var (s, i) in started.Select((s, i) => (s, i)))
        {
            var (pointHeld, seen) = await MatchAsync(s, ct);
            held &= pointHeld;
            observed.Add(seen);
            if (runner.IsDryRun) continue;
            if (Keep) _kept.Add(Read(s, i + 1));
            TryDelete(s.File);
        }
        if (ping is not null) observed.Insert(0, $"ping: {PingSummary(ping)}");
        if (notStarted) observed.Add("the captures did not all start, so no traffic was sent");
        return (held, string.Join("; ", observed));
    }

    private sealed record Running(CapturePoint Point, string File, IBackgroundCommand Command, string Label)
    {
        public CommandOutcome? Stopped { get; set; }
    }

    // 0.2 s apart (root may go below 1 s): the capture waits for the whole ping, answered or not.
    private Task<CommandOutcome> RunPingAsync(CaptureTraffic t, CancellationToken ct) =>
        places.PingAsync(t.From, t.To, t.Count, CommandPurpose.Observe, ct, "-i", "0.2");

    private static string PingSummary(CommandOutcome ping) =>
        ping.Stdout.Split('\n').FirstOrDefault(l => l.Contains("packets transmitted", StringComparison.Ordinal))?.Trim()
        ?? (ping.Error is { Length: > 0 } error ? error : $"exit {ping.ExitCode}");

    /// <summary>Counts each filter's packets in the capture file; every 'sees' needs one, every 'never' none.</summary>
    private async Task<(bool Held, string Observed)> MatchAsync(Running capture, CancellationToken ct)
    {
        var (point, file) = (capture.Point, capture.File);
        var where = point.In.Kind == PlaceKind.Host ? point.Link : $"{point.Link} in {point.In.Name}";
        if (!capture.Command.Ready) return (false, $"{where}: capture did not start: {capture.Stopped?.Error}");
        var held = true;
        var counts = new List<string>();
        var all = await CountAsync(file, null, ct);
        if (all.Error is not null) return (false, $"{where}: {all.Error}");
        foreach (var filter in point.Sees)
        {
            var (count, error) = await CountAsync(file, filter, ct);
            held &= error is null && count > 0;
            counts.Add(error ?? $"'{filter}' {count}");
        }
        foreach (var filter in point.Never)
        {
            var (count, error) = await CountAsync(file, filter, ct);
            held &= error is null && count == 0;
            counts.Add(error ?? $"'{filter}' {count}");
        }
        return (held, $"{where}: {all.Count} packets, {string.Join(", ", counts)}");
    }

    private async Task<(int Count, string? Error)> CountAsync(string file, string? filter, CancellationToken ct)
    {
        // '--' ends tcpdump's options: a filter is never read as one (the loader refuses a leading '-' too).
        string[] argv = filter is null ? ["tcpdump", "-n", "-r", file] : ["tcpdump", "-n", "-r", file, "--", filter];
        var outcome = await runner.RunAsync(argv, CommandPurpose.Check, ct);
        if (!outcome.Succeeded) return (0, $"tcpdump -r failed: {outcome.Error}");
        return (outcome.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, null);
    }

    /// <summary>A capture's pcap file as a bundle carries it: its bytes up to the bound, or its size and why it is left out.</summary>
    private static CapturedPackets Read(Running capture, int index)
    {
        try
        {
            using var file = new FileStream(capture.File, FileMode.Open, FileAccess.Read);
            var size = file.Length;
            if (size > Reporting.BugBundle.MaxCaptureBytes)
                return new CapturedPackets(capture.Point, index, size, null,
                    $"{size} bytes, more than the {Reporting.BugBundle.MaxCaptureBytes} a bundle keeps of one capture");
            var bytes = new byte[size];
            file.ReadExactly(bytes);
            return new CapturedPackets(capture.Point, index, size, bytes, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No file (tcpdump never started) or one that cannot be read: the bundle says so; the lab is not judged by it.
            return new CapturedPackets(capture.Point, index, 0, null, $"the pcap file could not be read: {e.Message}");
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (IOException)
        {
            // the journal directory goes at teardown anyway
        }
    }
}

/// <summary>
/// One capture point's packets as a run kept them for a bug bundle (<see cref="PacketCapture.Keep"/>): the pcap file
/// tcpdump wrote on <see cref="Point"/> (the <see cref="Index"/>-th of its capture, from 1), or, when
/// <see cref="Pcap"/> is null, why it is left out (<see cref="LeftOut"/>: too large, or not readable).
/// </summary>
public sealed record CapturedPackets(CapturePoint Point, int Index, long Bytes, byte[]? Pcap, string? LeftOut);
