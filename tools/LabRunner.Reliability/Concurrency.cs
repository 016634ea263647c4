using System.Diagnostics;
using LabRunner.Testing;

namespace LabRunner.Reliability;

public sealed record BatchResult(IReadOnlyList<LabRun> Runs, IReadOnlyList<string> Problems, TimeSpan Elapsed)
{
    public bool Clean => Problems.Count == 0;
}

/// <summary>Labs at once (distinct names, nothing shared, nothing left) and labs in a row (no flake).</summary>
public static class Concurrency
{
    /// <summary>N runs of a scenario at the same time, each in its own sandbox; all must pass, with N distinct lab ids, and leave nothing.</summary>
    public static async Task<BatchResult> ParallelAsync(int runs, string runtime, string scenario, CancellationToken ct = default)
    {
        var stateDir = Path.Combine(Path.GetTempPath(), $"lr-parallel-{Guid.NewGuid():N}"[..24]);
        var snapshot = new SnapshotOptions { StateRoots = [stateDir] };
        var before = HostSnapshot.Take(snapshot);
        var watch = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, runs).Select(_ =>
            LabProcess.RunAsync(["run", scenario, "--runtime", runtime, "--state-dir", stateDir], ct: ct)));
        var elapsed = watch.Elapsed;
        var problems = new List<string>();
        foreach (var (run, i) in results.Select((r, i) => (r, i)))
            if (run.ExitCode != 0) problems.Add($"run {i + 1} (lab {run.LabId}) exited {run.ExitCode}:\n{run}");
        var ids = results.Select(r => r.LabId).OfType<string>().ToHashSet();
        if (ids.Count != runs) problems.Add($"{runs} runs but {ids.Count} distinct lab ids: {string.Join(", ", results.Select(r => r.LabId))}");
        problems.AddRange(before.Diff(HostSnapshot.Take(snapshot), ids).Select(d => "left: " + d));
        LabProcess.DeleteIfEmpty(stateDir);
        return new BatchResult(results, problems, elapsed);
    }

    /// <summary>N runs one after the other; each must pass and leave the host as it found it.</summary>
    public static async Task<BatchResult> ConsecutiveAsync(int runs, string runtime, string scenario, TextWriter? progress = null, CancellationToken ct = default)
    {
        var stateDir = Path.Combine(Path.GetTempPath(), $"lr-consecutive-{Guid.NewGuid():N}"[..27]);
        var snapshot = new SnapshotOptions { StateRoots = [stateDir] };
        var watch = Stopwatch.StartNew();
        var all = new List<LabRun>();
        var problems = new List<string>();
        for (var i = 1; i <= runs; i++)
        {
            var before = HostSnapshot.Take(snapshot);
            var run = await LabProcess.RunAsync(["run", scenario, "--runtime", runtime, "--state-dir", stateDir], ct: ct);
            all.Add(run);
            var left = before.Diff(HostSnapshot.Take(snapshot), run.LabId is { } id ? new HashSet<string> { id } : []);
            var ok = run.ExitCode == 0 && left.Count == 0;
            if (run.ExitCode != 0) problems.Add($"run {i} (lab {run.LabId}) exited {run.ExitCode}:\n{run}");
            problems.AddRange(left.Select(d => $"run {i} left: {d}"));
            progress?.WriteLine($"  run {i}/{runs}: exit {run.ExitCode}, {(left.Count == 0 ? "nothing left" : $"{left.Count} left")}, {run.Elapsed.TotalSeconds:0.0}s{(ok ? "" : "  <-- FAILED")}");
        }
        LabProcess.DeleteIfEmpty(stateDir);
        return new BatchResult(all, problems, watch.Elapsed);
    }

    public static async Task<int> ParallelMainAsync(int runs, string runtime, string scenario, TextWriter output, CancellationToken ct)
    {
        var result = await ParallelAsync(runs, runtime, scenario, ct);
        foreach (var p in result.Problems) output.WriteLine(p);
        var times = result.Runs.Select(r => r.Elapsed.TotalSeconds).Order().ToList();
        output.WriteLine($"parallel: {result.Runs.Count(r => r.ExitCode == 0)} of {runs} runs of {Path.GetFileName(scenario)} on {runtime} passed at once, " +
                         $"{result.Runs.Select(r => r.LabId).Distinct().Count()} distinct lab ids, {(result.Clean ? "nothing left" : "PROBLEMS")}; " +
                         $"wall {result.Elapsed.TotalSeconds:0.0}s, per run {times[0]:0.0}-{times[^1]:0.0}s");
        return result.Clean ? 0 : 1;
    }

    public static async Task<int> ConsecutiveMainAsync(int runs, string runtime, string scenario, TextWriter output, CancellationToken ct)
    {
        var result = await ConsecutiveAsync(runs, runtime, scenario, output, ct);
        foreach (var p in result.Problems) output.WriteLine(p);
        var times = result.Runs.Select(r => r.Elapsed.TotalSeconds).Order().ToList();
        output.WriteLine($"consecutive: {result.Runs.Count(r => r.ExitCode == 0)} of {runs} runs of {Path.GetFileName(scenario)} on {runtime} passed, " +
                         $"{runs - result.Runs.Count(r => r.ExitCode == 0)} failures, {(result.Clean ? "nothing left after any run" : "PROBLEMS")}; " +
                         $"total {result.Elapsed.TotalMinutes:0.0} min, median run {times[times.Count / 2]:0.0}s");
        return result.Clean ? 0 : 1;
    }
}
