using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

/// <summary>What teardown did: undos run, those that failed, and what is still on the host afterwards.</summary>
public sealed record TeardownReport(int Undone, IReadOnlyList<string> Problems, IReadOnlyList<string> Leftovers)
{
    public bool Clean => Leftovers.Count == 0;
}

/// <summary>
/// Replays a journal newest-first, then checks every record's verification so that "nothing left" is a
/// measured fact, not a hope. Used at the end of every run and by `labrunner clean`. Never stops half-way:
/// a failing undo is reported and the rest still run.
/// </summary>
public sealed class Teardown(ICommandRunner runner, Func<string, IContainerRuntime> runtimes)
{
    public async Task<TeardownReport> RunAsync(LabJournal journal, CancellationToken ct = default)
    {
        var pending = journal.PendingNewestFirst();
        var problems = new List<string>();
        foreach (var undo in pending)
        {
            var problem = await UndoAsync(undo, ct);
            if (problem is not null) problems.Add($"{undo.Summary}: {problem}");
        }
        var leftovers = new List<string>();
        if (!runner.IsDryRun)
        {
            foreach (var undo in Verifiable(pending))
                if (await LeftoverAsync(undo, ct) is { } left) leftovers.Add(left);
            // Beyond the records: anything still carrying the lab's id (a name or label no record covers). Fork-free.
            foreach (var trace in Platform.HostSnapshot.TracesOf(journal.Header.LabId))
                if (!leftovers.Any(l => l.Contains(trace.Split(' ')[0], StringComparison.Ordinal))) leftovers.Add(trace);
        }
        return new TeardownReport(pending.Count, problems, leftovers);
    }

    private async Task<string?> UndoAsync(UndoRecord undo, CancellationToken ct)
    {
        switch (undo)
        {
            case UndoCommand c:
            {
                var outcome = await runner.RunAsync(c.Argv, CommandPurpose.Teardown, ct);
                if (outcome.Succeeded || c.Tolerate.Concat(GoneErrors.Namespace).Any(t => outcome.Output.Contains(t, StringComparison.Ordinal)))
                    return null;
                return $"`{c.Argv.Display()}` failed: {outcome.Error}";
            }
            case UndoRemoveContainer c:
                return await runtimes(c.Runtime).RemoveAsync(c.Id, ct);
            case UndoUnlink u:
            {
                if (!runner.IsDryRun && !PointsTo(u.Path, u.Target)) return null; // gone, or not ours any more: leave it
                var outcome = await runner.RunAsync(["rm", u.Path], CommandPurpose.Teardown, ct);
                return outcome.Succeeded ? null : $"`rm {u.Path}` failed: {outcome.Error}";
            }
            default:
                return $"unknown undo record {undo.GetType().Name}";
        }
    }

    /// <summary>
    /// A value set twice (a sysctl, a policy) is restored twice, newest first: only the oldest restore, the value
    /// from before the lab, must hold afterwards; the intermediate one is overwritten by design.
    /// </summary>
    private static IEnumerable<UndoRecord> Verifiable(IReadOnlyList<UndoRecord> newestFirst)
    {
        var oldestRestore = new Dictionary<string, UndoRecord>();
        foreach (var undo in newestFirst)
            if (undo is UndoCommand { Verify: { Kind: VerificationKind.FirstLineEquals } v })
                oldestRestore[string.Join('\0', v.Argv)] = undo;
        return newestFirst.Where(u => u is not UndoCommand { Verify.Kind: VerificationKind.FirstLineEquals } || oldestRestore.ContainsValue(u));
    }

    private async Task<string?> LeftoverAsync(UndoRecord undo, CancellationToken ct)
    {
        switch (undo)
        {
            case UndoCommand { Verify: { } v } c:
                switch (v.Kind)
                {
                    case VerificationKind.PathAbsent:
                        return Exists(v.Expected!) ? $"{v.Expected} still exists ({c.Summary})" : null;
                    case VerificationKind.Absent:
                    {
                        var outcome = await runner.RunAsync(v.Argv, CommandPurpose.Check, ct);
                        return outcome.Succeeded && outcome.Stdout.Trim().Length > 0
                            ? $"still present ({c.Summary}): `{v.Argv.Display()}` shows {outcome.Stdout.Trim().ReplaceLineEndings(" | ")}"
                            : null;
                    }
                    case VerificationKind.FirstLineEquals:
                    {
                        var outcome = await runner.RunAsync(v.Argv, CommandPurpose.Check, ct);
                        if (!outcome.Succeeded && GoneErrors.Namespace.Any(g => outcome.Output.Contains(g, StringComparison.Ordinal))) return null;
                        var line = ExpectationEvaluator.Words(outcome.Stdout.Split('\n')[0]);
                        return line == ExpectationEvaluator.Words(v.Expected!) ? null : $"not restored ({c.Summary}): `{v.Argv.Display()}` shows '{line}'";
                    }
                }
                return null;
            case UndoRemoveContainer c:
                return await runtimes(c.Runtime).ExistsAsync(c.Id, ct) ? $"container still there ({c.Summary}): {c.Runtime} {c.Id}" : null;
            case UndoUnlink u:
                return PointsTo(u.Path, u.Target) ? $"{u.Path} still exists ({u.Summary})" : null;
            default:
                return null;
        }
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;

    private static bool PointsTo(string path, string target) => new FileInfo(path).LinkTarget == target;
}
