using System.Diagnostics;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Testing;

namespace LabRunner.Reliability;

public sealed record MutationReport(int Seed, int Tried, int Valid, int Rejected, IReadOnlyList<string> Crashes, IReadOnlyList<Mutant> ValidMutants,
    IReadOnlyList<Mutant> RejectedMutants, TimeSpan Elapsed, TimeSpan Slowest);

public sealed record MutantRun(Mutant Mutant, int ExitCode, IReadOnlyList<string> Problems, TimeSpan Elapsed);

/// <summary>
/// Mutation fuzzing of the loader (in-process, thousands of mutants) and of whole runs (a few valid and invalid
/// mutants run for real). Each mutant must be valid, or rejected with ScenarioInvalidException whose every error
/// has a position (line &gt; 0): any other exception is a crash. Run for real, a valid mutant exits 0 or 1, an invalid
/// one exits 2, and neither changes the host.
/// </summary>
public static class Mutation
{
    /// <summary>Programs a mutant may run for real (argv[0] of its commands): what the article runs, nothing else.</summary>
    private static readonly HashSet<string> RunnablePrograms = ["ip", "test"];

    public static MutationReport LoadAll(int seed, int count)
    {
        var mutator = new ScenarioMutator(seed, ScenarioMutator.Sources());
        var watch = Stopwatch.StartNew();
        var crashes = new List<string>();
        var valid = new List<Mutant>();
        var rejected = new List<Mutant>();
        var slowest = TimeSpan.Zero;
        foreach (var mutant in mutator.Mutants(count))
        {
            var one = Stopwatch.StartNew();
            try
            {
                ScenarioLoader.Load(mutant.Text, $"mutant-{seed}-{mutant.Number}.yaml");
                valid.Add(mutant);
            }
            catch (ScenarioInvalidException e)
            {
                rejected.Add(mutant);
                if (e.Errors.IsEmpty || e.Errors.Any(x => x.Span.Line <= 0))
                    crashes.Add(Describe(seed, mutant, $"rejected without a position: {e.Message}"));
            }
            catch (Exception e)
            {
                crashes.Add(Describe(seed, mutant, $"{e.GetType().Name}: {e.Message}\n{e.StackTrace}"));
            }
            if (one.Elapsed > slowest) slowest = one.Elapsed;
        }
        return new MutationReport(seed, count, valid.Count, rejected.Count, crashes, valid, rejected, watch.Elapsed, slowest);
    }

    /// <summary>Whether a valid mutant is safe to run for real: its commands run only what the article runs.</summary>
    public static bool Runnable(Mutant mutant)
    {
        var scenario = ScenarioLoader.Load(mutant.Text, "mutant.yaml");
        foreach (var action in scenario.AllActions)
            if (action is RunCommand c && (!RunnablePrograms.Contains(c.Argv[0]) || c.Undo is { } u && !RunnablePrograms.Contains(u[0]))) return false;
        foreach (var e in scenario.Steps.SelectMany(s => s.Expectations))
            if (e is CommandExpectation c && !RunnablePrograms.Contains(c.Argv[0])) return false;
        return true;
    }

    /// <summary>Runs a mutant with the CLI in a sandbox: valid ones must exit 0 or 1, invalid ones 2; the host must not change.</summary>
    public static async Task<MutantRun> RunAsync(Mutant mutant, bool valid, string runtime, CancellationToken ct = default)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"lr-mutant-{Guid.NewGuid():N}"[..22]);
        Directory.CreateDirectory(dir);
        try
        {
            var file = Path.Combine(dir, $"mutant-{mutant.Number}.yaml");
            await File.WriteAllTextAsync(file, mutant.Text, ct);
            var snapshot = new SnapshotOptions { StateRoots = [Path.Combine(dir, "state")] };
            var before = HostSnapshot.Take(snapshot);
            var run = await LabProcess.RunAsync(["run", file, "--runtime", runtime, "--state-dir", Path.Combine(dir, "state")], ct: ct);
            var problems = new List<string>();
            // A filter the loader accepts may still be one libpcap refuses (checked only before a run): exit 2 with a position is right then.
            var refusedByLibpcap = run.ExitCode == 2 && run.Stderr.Contains(": error: pcap filter '", StringComparison.Ordinal);
            if (valid ? run.ExitCode is not (0 or 1) && !refusedByLibpcap : run.ExitCode != 2) problems.Add($"exit {run.ExitCode} (expected {(valid ? "0 or 1" : "2")}):\n{run}");
            if ((!valid || refusedByLibpcap) && !run.Stderr.Contains(file + ":", StringComparison.Ordinal)) problems.Add($"the rejection names no position in {file}:\n{run.Stderr}");
            if (run.Stderr.Contains("Unhandled exception", StringComparison.Ordinal)) problems.Add($"unhandled exception:\n{run.Stderr}");
            problems.AddRange(before.Diff(HostSnapshot.Take(snapshot), run.LabId is { } id ? new HashSet<string> { id } : []).Select(d => "host changed: " + d));
            return new MutantRun(mutant, run.ExitCode, problems, run.Elapsed);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static string Describe(int seed, Mutant mutant, string what) =>
        $"seed {seed}, mutant {mutant.Number} (of {mutant.Source}; {string.Join("; ", mutant.Mutations)}): {what}\n--- mutant\n{mutant.Text}\n---";

    public static async Task<int> MainAsync(int count, int seed, int runs, TextWriter output, CancellationToken ct)
    {
        output.WriteLine($"mutation: seed {seed} (reproduce with --seed {seed}), {count} mutants of scenarios/article/*.yaml and scenarios/curriculum/*.yaml");
        var report = LoadAll(seed, count);
        foreach (var crash in report.Crashes) output.WriteLine("CRASH " + crash);
        output.WriteLine($"loader: {report.Tried} mutants, {report.Valid} valid, {report.Rejected} rejected with a position, {report.Crashes.Count} crashes; " +
                         $"{report.Elapsed.TotalSeconds:0.0}s in all, slowest {report.Slowest.TotalMilliseconds:0} ms");

        var failures = report.Crashes.Count;
        var runnable = report.ValidMutants.Where(Runnable).Take(runs).ToList();
        var invalid = report.RejectedMutants.Take(Math.Max(1, runs / 2)).ToList();
        var outcomes = new Dictionary<int, int>();
        foreach (var (mutant, valid) in runnable.Select(m => (m, true)).Concat(invalid.Select(m => (m, false))))
        {
            var run = await RunAsync(mutant, valid, "process", ct);
            outcomes[run.ExitCode] = outcomes.GetValueOrDefault(run.ExitCode) + 1;
            output.WriteLine($"  run mutant {mutant.Number} ({(valid ? "valid" : "invalid")}; {string.Join("; ", mutant.Mutations)}): exit {run.ExitCode}, " +
                             $"{(run.Problems.Count == 0 ? "host unchanged" : "PROBLEM")} ({run.Elapsed.TotalSeconds:0.0}s)");
            foreach (var p in run.Problems) output.WriteLine(Describe(seed, mutant, p));
            if (run.Problems.Count > 0) failures++;
        }
        output.WriteLine($"runs: {runnable.Count} valid and {invalid.Count} invalid mutants run for real, exits {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}: {o.Value}"))}; " +
                         $"{failures - report.Crashes.Count} with a problem (host change, wrong exit, crash)");
        output.WriteLine($"mutation summary: {report.Tried} mutants, {report.Crashes.Count} crashes, {failures - report.Crashes.Count} run problems, seed {seed}");
        return failures == 0 ? 0 : 1;
    }
}
