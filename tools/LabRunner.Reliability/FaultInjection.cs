using System.Globalization;
using LabRunner.Loading;
using LabRunner.Testing;

namespace LabRunner.Reliability;

/// <summary>The outcome of one injected fault: the run signalled after action K, then (for SIGKILL) `labrunner clean`.</summary>
public sealed record FaultCase(string Runtime, string Signal, int AfterAction, bool Clean, string Verdict, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"{Runtime} {(Signal.Contains('-') ? Signal : "SIG" + Signal)}{(AfterAction > 0 ? $" after action {AfterAction}" : "")}: {(Clean ? "clean" : "NOT CLEAN")} ({Verdict}) in {Elapsed.TotalSeconds:0.0}s";
}

/// <summary>
/// Fault injection (docs/RELIABILITY.md): run a scenario with LABRUNNER_FAULT_AFTER_ACTION=k and
/// LABRUNNER_FAULT_SIGNAL=KILL|INT|TERM, so that the run signals itself right after scenario action k; after
/// SIGKILL run `labrunner clean`; then compare host snapshots. Runs use a state directory of their own, so that
/// their dead journals never meet another lab's `clean` on a shared machine (and theirs never meet ours).
/// </summary>
public static class FaultInjection
{
    public static readonly IReadOnlyList<string> Signals = ["KILL", "INT", "TERM"];

    /// <summary>K: the number of scenario actions, from the loaded model (what the engine counts for k).</summary>
    public static int ActionCount(string scenarioPath) => ScenarioLoader.LoadFile(scenarioPath).AllActions.Count();

    /// <summary>n action indexes spread evenly over 1..K, first and last included.</summary>
    public static IReadOnlyList<int> Spread(int actions, int n) =>
        [.. Enumerable.Range(0, n).Select(i => 1 + (int)Math.Round((actions - 1) * (double)i / (n - 1))).Distinct()];

    public static int ExpectedExit(string signal) => signal switch { "KILL" => 137, "INT" => 130, "TERM" => 143, _ => throw new ArgumentException(signal) };

    public static async Task<FaultCase> RunAsync(string scenarioPath, string runtime, string signal, int afterAction, string stateDir, CancellationToken ct = default)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var snapshot = new SnapshotOptions { StateRoots = [stateDir] };
        var before = HostSnapshot.Take(snapshot);
        var env = new Dictionary<string, string?>
        {
            ["LABRUNNER_FAULT_AFTER_ACTION"] = afterAction.ToString(CultureInfo.InvariantCulture),
            ["LABRUNNER_FAULT_SIGNAL"] = signal,
        };
        var run = await LabProcess.RunAsync(["run", scenarioPath, "--runtime", runtime, "--state-dir", stateDir], env, ct: ct);
        var problems = new List<string>();
        if (run.ExitCode != ExpectedExit(signal))
            problems.Add($"run exited {run.ExitCode}, expected {ExpectedExit(signal)}: {Tail(run)}");
        if (signal != "KILL" && !run.Stdout.Contains("nothing of the lab is left", StringComparison.Ordinal))
            problems.Add("the interrupted run did not report a clean teardown");
        var cleaned = "";
        if (signal == "KILL")
        {
            var clean = await LabProcess.RunAsync(["clean", "--state-dir", stateDir], ct: ct);
            if (clean.ExitCode != 0) problems.Add($"clean exited {clean.ExitCode}: {Tail(clean)}");
            cleaned = ", clean replayed the journal";
        }
        var labs = run.LabId is { } id ? new HashSet<string> { id } : [];
        var diff = before.Diff(HostSnapshot.Take(snapshot), labs);
        problems.AddRange(diff.Select(d => "left: " + d));
        var verdict = problems.Count == 0 ? $"exit {run.ExitCode}{cleaned}, snapshots equal" : string.Join("; ", problems);
        return new FaultCase(runtime, signal, afterAction, problems.Count == 0, verdict, watch.Elapsed);
    }

    /// <summary>
    /// SIGKILL at a moment chosen by the test, not by the engine: usually in the middle of a command (ip, ctr, a
    /// Docker API call), which the write-ahead journal must cover too. Then `labrunner clean`, then the snapshots.
    /// </summary>
    public static async Task<FaultCase> RunKilledAtAsync(string scenarioPath, string runtime, TimeSpan delay, string stateDir, CancellationToken ct = default)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var snapshot = new SnapshotOptions { StateRoots = [stateDir] };
        var before = HostSnapshot.Take(snapshot);
        var run = await LabProcess.RunAndKillAsync(["run", scenarioPath, "--runtime", runtime, "--state-dir", stateDir], delay, ct);
        var problems = new List<string>();
        if (run.ExitCode is not (137 or 0)) problems.Add($"run exited {run.ExitCode}: {Tail(run)}");
        // Killed before it printed its id, a run may still have claimed one: its journal directory (our own state dir) says.
        var labs = run.LabId is { } id ? new HashSet<string> { id }
            : Directory.Exists(stateDir) ? Directory.GetDirectories(stateDir).Select(Path.GetFileName).OfType<string>().ToHashSet() : [];
        var clean = await LabProcess.RunAsync(["clean", "--state-dir", stateDir], ct: ct);
        if (clean.ExitCode != 0) problems.Add($"clean exited {clean.ExitCode}: {Tail(clean)}");
        problems.AddRange(before.Diff(HostSnapshot.Take(snapshot), labs).Select(d => "left: " + d));
        var lastCommand = run.Stdout.Split('\n').LastOrDefault(l => l.TrimStart().StartsWith("$ ", StringComparison.Ordinal))?.Trim() ?? "(none)";
        var verdict = problems.Count == 0
            ? $"exit {run.ExitCode}, clean replayed the journal, snapshots equal; last command shown: {lastCommand}"
            : string.Join("; ", problems) + $"; last command shown: {lastCommand}";
        return new FaultCase(runtime, $"KILL@{delay.TotalSeconds:0.00}s", 0, problems.Count == 0, verdict, watch.Elapsed);
    }

    private static string Tail(LabRun run)
    {
        var text = (run.Stdout + "\n" + run.Stderr).Trim().Split('\n');
        return string.Join(" | ", text.TakeLast(6));
    }
}
