using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

/// <summary>
/// What teardown did: undos run, what went wrong on the way (a failed undo, an unreadable journal line, a trace no
/// record named), and what is still on the host afterwards, or could not be looked for.
/// </summary>
public sealed record TeardownReport(int Undone, IReadOnlyList<string> Problems, IReadOnlyList<string> Leftovers)
{
    public bool Clean => Leftovers.Count == 0;

    /// <summary>
    /// Undo commands (as displayed) that failed because their object was gone already (a veth deleted with its peer,
    /// a link with its namespace): done, not failed. Reports say "already gone" instead of an exit code.
    /// </summary>
    public IReadOnlyList<string> AlreadyGone { get; init; } = [];

    /// <summary>
    /// Records not run because their object went with a namespace the teardown removed whole (a lab netns, the
    /// sandbox host, a container's): the kernel takes a namespace's links, addresses, routes and rules along.
    /// </summary>
    public int Settled => SettledCommands.Count;

    /// <summary>The undo commands of the <see cref="Settled"/> records, as displayed, newest first (transcripts list them).</summary>
    public IReadOnlyList<string> SettledCommands { get; init; } = [];

    /// <summary>How long the teardown took (reports show it: on a large lab it is the longest phase).</summary>
    public TimeSpan Elapsed { get; init; }
}

/// <summary>
/// Replays a journal newest-first, sweeps whatever still carries the lab's id (<see cref="LabTraces"/>), then checks
/// every record's verification, so that "nothing left" is a measured fact, not a hope. Used at the end of every run
/// and by `labrunner clean`. Never stops half-way: a failing undo, or a record it cannot read, is reported and the
/// rest still run.
/// </summary>
public sealed class Teardown(ICommandRunner runner, Func<string, IContainerRuntime> runtimes)
{
    public async Task<TeardownReport> RunAsync(LabJournal journal, CancellationToken ct = default)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var pending = journal.PendingNewestFirst();
        var problems = journal.Problems.Select(p => $"journal {p}").ToList();
        var containers = pending.OfType<UndoRemoveContainer>().ToList();
        var unknown = containers.Where(c => !ContainerRuntimes.Names.Contains(c.Runtime)).ToList();
        foreach (var c in unknown)
            problems.Add($"{c.Summary}: the journal names an unknown runtime '{c.Runtime}' (known: {string.Join(", ", ContainerRuntimes.Names)}); looked for the lab's containers in every runtime instead");
        // A journal that may not name everything: look in every runtime that could hold the lab's containers.
        var named = containers.Except(unknown).Select(c => c.Runtime).Distinct();
        var lookIn = journal.Damaged || unknown.Count > 0
            ? named.Concat(ContainerRuntimes.Names.Where(n => runtimes(n).MayHoldContainers)).Distinct().ToList()
            : named.ToList();
        var traces = new LabTraces(runner, runtimes);
        // Links into the lab's containers are told by the containers' PIDs, which are gone once the replay removed
        // them: a damaged journal, which may have lost the links' own records, has them found first.
        var links = journal.Damaged && !runner.IsDryRun ? await traces.LinksIntoLabAsync(journal.Header.LabId, lookIn, ct) : [];

        // In O(N): a record whose object lives in a namespace this teardown removes whole (a lab netns, the sandbox
        // host, a container's) is settled by that removal and never run; the rest run newest first, then the
        // containers go (one /proc scan for the process runtime), then the namespaces with everything in them.
        var plan = TeardownOrder.Of([.. pending.Where(u => !unknown.Contains(u))]);
        var alreadyGone = new List<string>();
        foreach (var undo in plan.First)
        {
            var problem = await UndoAsync(undo, alreadyGone, ct);
            if (problem is not null) problems.Add($"{undo.Summary}: {problem}");
        }
        foreach (var group in plan.Containers.GroupBy(c => c.Runtime))
        {
            var failures = await runtimes(group.Key).RemoveManyAsync([.. group.Select(c => c.Id)], ct);
            problems.AddRange(group.Where(c => failures.ContainsKey(c.Id)).Select(c => $"{c.Summary}: {failures[c.Id]}"));
        }
        foreach (var undo in plan.Namespaces)
        {
            var problem = await UndoAsync(undo, alreadyGone, ct);
            if (problem is not null) problems.Add($"{undo.Summary}: {problem}");
        }
        var leftovers = new List<string>();
        if (!runner.IsDryRun)
        {
            var sweep = await traces.SweepAsync(journal.Header.LabId, lookIn, links, ct);
            problems.AddRange(sweep.Removed.Select(r => $"removed {r}: it carried the lab's id, and no record named it"));
            // Settled records are verified by their namespace's check (PathAbsent) and the containers' listing.
            var notVerifiedHere = new HashSet<UndoRecord>([.. plan.Settled, .. containers], ReferenceEqualityComparer.Instance);
            foreach (var undo in Verifiable([.. pending.Where(u => !notVerifiedHere.Contains(u))]))
                if (await LeftoverAsync(undo, ct) is { } left) leftovers.Add(left);
            leftovers.AddRange(await ContainersLeftAsync(containers.Except(unknown).ToList(), journal.Header.LabId, ct));
            // A trace that a record's own check already names (by its path or label) is said once.
            foreach (var left in sweep.Leftovers)
                if (left.Split(' ')[0] is not { } what || !what.Contains('/') || !leftovers.Any(l => l.Contains(what, StringComparison.Ordinal)))
                    leftovers.Add(left);
        }
        return new TeardownReport(pending.Count, problems, leftovers) { Elapsed = watch.Elapsed, AlreadyGone = alreadyGone, SettledCommands = [.. plan.Settled.OfType<UndoCommand>().Select(c => c.Argv.Display())] };
    }

    /// <summary>
    /// The lab's containers still there, from one listing per runtime (not one look per container: a look at the
    /// process runtime scans every process's environment). A runtime that cannot tell says so for each of its own.
    /// </summary>
    private async Task<IEnumerable<string>> ContainersLeftAsync(IReadOnlyList<UndoRemoveContainer> containers, string labId, CancellationToken ct)
    {
        var left = new List<string>();
        foreach (var group in containers.GroupBy(c => c.Runtime))
        {
            var listed = await runtimes(group.Key).ListLabAsync(labId, ct);
            var there = listed.Containers.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var c in group)
            {
                if (listed.WhyUnknown is { } why)
                    left.Add($"cannot tell whether container {c.Id} is gone ({c.Summary}): {why}; start {c.Runtime}, then run `labrunner clean`");
                else if (there.Contains(c.Id))
                    left.Add($"container still there ({c.Summary}): {c.Runtime} {c.Id}");
            }
        }
        return left;
    }

    private async Task<string?> UndoAsync(UndoRecord undo, List<string> alreadyGone, CancellationToken ct)
    {
        switch (undo)
        {
            case UndoCommand c:
            {
                var outcome = await runner.RunAsync(c.Argv, CommandPurpose.Teardown, ct);
                if (outcome.Succeeded) return null;
                if (c.Tolerate.Concat(GoneErrors.Namespace).Any(t => outcome.Output.Contains(t, StringComparison.Ordinal)))
                {
                    alreadyGone.Add(c.Argv.Display());
                    return null;
                }
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
            case UndoCni cni:
                return await Model.Cni.DeleteAsync(cni, runner, ct);
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
                        var outcome = await runner.RunAsync(v.Argv, CommandPurpose.Verify, ct);
                        return outcome.Succeeded && outcome.Stdout.Trim().Length > 0
                            ? $"still present ({c.Summary}): `{v.Argv.Display()}` shows {outcome.Stdout.Trim().ReplaceLineEndings(" | ")}"
                            : null;
                    }
                    case VerificationKind.FirstLineEquals:
                    {
                        var outcome = await runner.RunAsync(v.Argv, CommandPurpose.Verify, ct);
                        if (!outcome.Succeeded && GoneErrors.Namespace.Any(g => outcome.Output.Contains(g, StringComparison.Ordinal))) return null;
                        // A per-link sysctl (net.ipv4.conf.flannel1.proxy_arp) went with its link: nothing is left to restore.
                        if (!outcome.Succeeded && outcome.Output.Contains("cannot stat /proc/sys/", StringComparison.Ordinal)) return null;
                        var line = Kinds.ObserveContext.Words(outcome.Stdout.Split('\n')[0]);
                        return line == Kinds.ObserveContext.Words(v.Expected!) ? null : $"not restored ({c.Summary}): `{v.Argv.Display()}` shows '{line}'";
                    }
                }
                return null;
            case UndoUnlink u:
                return PointsTo(u.Path, u.Target) ? $"{u.Path} still exists ({u.Summary})" : null;
            case UndoCni cni:
                return Model.Cni.Leftover(cni);
            default:
                return null;
        }
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;

    private static bool PointsTo(string path, string target) => new FileInfo(path).LinkTarget == target;
}
