using System.Diagnostics;
using LabRunner.Platform;
using LabRunner.Testing;

namespace LabRunner.Reliability;

/// <summary>
/// How real sessions end (docs/RELIABILITY.md, issue 9): `sighup` closes the run's terminal at a random moment;
/// `pause-int` presses Ctrl-C at a --pause prompt (exit 130 within 1 s); `group-int` sends Ctrl-C to the run's whole
/// process group at a random moment and again once teardown has started, as a terminal does. Each run has a state
/// directory of its own and is compared with a host snapshot taken just before it.
/// </summary>
public static class SignalFaults
{
    public static readonly IReadOnlyList<string> Kinds = ["sighup", "pause-int", "group-int"];

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    public static async Task<int> MainAsync(string kind, int runs, string runtime, string scenario, int seed, double max, TextWriter output, CancellationToken ct)
    {
        var random = new Random(seed);
        output.WriteLine($"{kind}: {runs} runs, runtime {runtime}, seed {seed}{(kind == "pause-int" ? "" : $", first signal after 0.3-{max:0.#} s")}");
        var clean = 0;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++)
        {
            var delay = TimeSpan.FromSeconds(0.3 + random.NextDouble() * (max - 0.3));
            var result = kind switch
            {
                "sighup" => await HangupAsync(scenario, runtime, delay, ct),
                "pause-int" => await PauseInterruptAsync(runtime, ct),
                "group-int" => await GroupInterruptAsync(scenario, runtime, delay, ct),
                _ => throw new ArgumentException($"unknown signal fault '{kind}' (known: {string.Join(", ", Kinds)})"),
            };
            output.WriteLine("  " + result);
            if (result.Clean) clean++;
        }
        output.WriteLine($"{runtime,-10} {kind}: {clean} of {runs} clean in {total.Elapsed.TotalSeconds:0} s");
        return clean == runs ? 0 : 1;
    }

    /// <summary>The terminal closed at a moment the test chooses: exit 129 after a teardown (or 0 if it was over before), nothing left.</summary>
    public static Task<FaultCase> HangupAsync(string scenario, string runtime, TimeSpan delay, CancellationToken ct) =>
        RunAsync("HUP", delay, scenario, runtime, new WatchOptions { Terminal = true }, async run =>
        {
            await Task.Delay(delay, ct);
            run.HangUp();
            return 129;
        }, ct);

    /// <summary>Ctrl-C to the process group at a random moment, and again as soon as teardown has started.</summary>
    public static Task<FaultCase> GroupInterruptAsync(string scenario, string runtime, TimeSpan delay, CancellationToken ct) =>
        RunAsync("INT×2 to the group", delay, scenario, runtime, new WatchOptions { OwnGroup = true }, async run =>
        {
            await Task.Delay(delay, ct);
            run.SignalGroup(Processes.SIGINT);
            await run.WaitForAsync(o => o.Contains("Teardown", StringComparison.Ordinal), "teardown", Long, ct);
            run.SignalGroup(Processes.SIGINT);
            return 130;
        }, ct);

    /// <summary>A two-step lab with --pause: Enter once, then Ctrl-C at the second prompt; exit 130 within 1 s.</summary>
    public static async Task<FaultCase> PauseInterruptAsync(string runtime, CancellationToken ct)
    {
        var lab = Path.Combine(Path.GetTempPath(), $"lr-pause-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(lab, "lab: pause\nsteps:\n  - title: one namespace\n    actions:\n      - netns-add: n1\n" +
                                          "  - title: another\n    actions:\n      - netns-add: n2\n", ct);
        try
        {
            TimeSpan? signalled = null;
            WatchedRun? watched = null;
            var result = await RunAsync("INT at a --pause prompt", TimeSpan.Zero, lab, runtime, new WatchOptions { OwnGroup = true }, async run =>
            {
                watched = run;
                await run.WaitForAsync("press Enter", Long, ct);
                run.Type("\n");
                await run.WaitForAsync(o => o.Split("press Enter").Length > 2, "the second prompt", Long, ct);
                signalled = run.Now;
                run.SignalGroup(Processes.SIGINT);
                return 130;
            }, ct, extraArgs: ["--pause"]);
            var took = watched?.ExitedAt - signalled;
            var quick = took is { } t && t < TimeSpan.FromSeconds(1);
            return result with
            {
                Clean = result.Clean && quick,
                Verdict = $"exited {took?.TotalSeconds:0.00} s after Ctrl-C{(quick ? "" : " (NOT within 1 s)")}; {result.Verdict}",
            };
        }
        finally
        {
            File.Delete(lab);
        }
    }

    private static async Task<FaultCase> RunAsync(string what, TimeSpan delay, string scenario, string runtime, WatchOptions options,
        Func<WatchedRun, Task<int>> fault, CancellationToken ct, string[]? extraArgs = null)
    {
        var watch = Stopwatch.StartNew();
        var stateDir = Path.Combine(Path.GetTempPath(), $"lr-signals-{Guid.NewGuid():N}"[..24]);
        var snapshot = new SnapshotOptions { StateRoots = [stateDir] };
        var before = HostSnapshot.Take(snapshot);
        await using var run = WatchedRun.Start(["run", scenario, "--runtime", runtime, "--state-dir", stateDir, .. extraArgs ?? []], options);
        var problems = new List<string>();
        var kindCode = what.StartsWith("HUP", StringComparison.Ordinal) ? 129 : 130;
        int expected;
        try
        {
            expected = await fault(run);
        }
        catch (TimeoutException) when (run.ExitedAt is not null)
        {
            // Over before the fault was complete (it passed, or a first signal came before there was anything to tear
            // down): exit 0 or that signal's code, and nothing left, as always.
            expected = kindCode;
        }
        var result = await run.ExitAsync(Long, ct);
        if (result.ExitCode != expected && result.ExitCode != 0)
            problems.Add($"exit {result.ExitCode}, expected {expected}: {string.Join(" | ", result.Stdout.Trim().Split('\n').TakeLast(4))}");
        var labs = run.LabId is { } id ? new HashSet<string> { id } : [];
        problems.AddRange(before.Diff(HostSnapshot.Take(snapshot), labs).Select(d => "left: " + d));
        if (Directory.Exists(stateDir) && Directory.EnumerateFileSystemEntries(stateDir).Any())
        {
            problems.Add($"journal left in {stateDir}; `labrunner clean --state-dir {stateDir}` removes it");
        }
        else LabProcess.DeleteIfEmpty(stateDir);
        var verdict = problems.Count == 0 ? $"exit {result.ExitCode}, nothing left, snapshots equal" : string.Join("; ", problems);
        return new FaultCase(runtime, $"{what}{(delay > TimeSpan.Zero ? $" @{delay.TotalSeconds:0.00}s" : "")}", 0, problems.Count == 0, verdict, watch.Elapsed);
    }
}
