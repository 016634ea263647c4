using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Platform;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

public sealed record CleanedLab(string LabId, TeardownReport Report);

/// <summary>
/// `labrunner clean`: replays the journal of every run whose owner process is gone (killed, crashed, power cut
/// of the process), then sweeps what still carries that lab's id (<see cref="LabTraces"/>): a journal cut short or
/// garbled still leaves nothing, and what is left is named. It never searches by a looser pattern than a lab id.
/// One journal that cannot be cleaned never stops the others.
/// </summary>
public sealed class Cleaner(ICommandRunner runner, Func<string, IContainerRuntime> runtimes, string stateRoot = LabJournal.DefaultRoot)
{
    /// <summary>Journals of dead runs, oldest first. Journals of live runs are left alone.</summary>
    public IReadOnlyList<string> OrphanedJournals()
    {
        var orphans = new List<(DateTimeOffset, string)>();
        foreach (var dir in LabJournal.Directories(stateRoot))
        {
            var path = Path.Combine(dir, LabJournal.FileName);
            JournalHeader header;
            try
            {
                using var journal = LabJournal.Read(dir);
                if (!journal.HasHeader)
                {
                    // Owner unknown: dead unless a process holds the journal open (a run keeps its journal open).
                    if (!Processes.AnyHasOpen(path)) orphans.Add((DateTimeOffset.MinValue, dir));
                    continue;
                }
                header = journal.Header;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // No journal file in it: a directory only a person (or a very old run) made; its id is still swept.
                if (!File.Exists(path) && LabJournal.IsLabId(Path.GetFileName(dir)) && !Processes.AnyHasOpen(dir)) orphans.Add((DateTimeOffset.MinValue, dir));
                continue;
            }
            if (Processes.IsRunning(header.OwnerPid, header.OwnerStartTime)) continue;
            orphans.Add((header.Started, dir));
        }
        return [.. orphans.OrderBy(o => o.Item1).Select(o => o.Item2)];
    }

    /// <summary>
    /// `clean ID…`: the runs named must be there and dead. An id with no journal, or a live run's (whose owner tears it
    /// down itself), is a <see cref="UsageException"/> naming the runs there, and nothing is cleaned.
    /// </summary>
    public void CheckNamed(IReadOnlyCollection<string> ids)
    {
        var orphans = OrphanedJournals().Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        var runs = LabRuns.List(stateRoot);
        string Listing() => runs.Count == 0 ? $"there is no run in {stateRoot}"
            : "runs there: " + string.Join(", ", runs.Select(r => $"{r.Id} ({r.Lab}, {(orphans.Contains(r.Id) ? "dead" : "live")})"));
        var unknown = ids.Where(id => runs.All(r => r.Id != id)).ToList();
        if (unknown.Count > 0)
        {
            var near = unknown.Count == 1 && Loading.Suggest.Nearest(unknown[0], runs.Select(r => r.Id)) is { } n ? $" (did you mean {n}?)" : "";
            throw new UsageException($"no run {string.Join(", ", unknown)} in {stateRoot}{near}; nothing was cleaned", Listing());
        }
        var live = runs.Where(r => ids.Contains(r.Id) && !orphans.Contains(r.Id)).ToList();
        if (live.Count > 0)
            throw new UsageException($"run {string.Join(", ", live.Select(r => r.OwnerPid is { } pid ? $"{r.Id} (lab {r.Lab}, owner PID {pid})" : r.Id))} is live: " +
                                     "clean only removes what dead runs left; nothing was cleaned",
                "a live run tears its lab down itself when it ends: stop it (Ctrl-C where it runs, q at its pause, or kill -TERM its owner)");
    }

    /// <param name="ids">Only these runs (`clean ID…`, checked by <see cref="CheckNamed"/> first); null: every dead run.</param>
    public async Task<IReadOnlyList<CleanedLab>> CleanAsync(Action<string>? onLab = null, CancellationToken ct = default, IReadOnlyCollection<string>? ids = null)
    {
        RemoveDeadTransitDirectories(ids);
        var cleaned = new List<CleanedLab>();
        foreach (var dir in OrphanedJournals().Where(d => ids is null || ids.Contains(Path.GetFileName(d))))
        {
            ct.ThrowIfCancellationRequested();
            var id = Path.GetFileName(dir);
            try
            {
                cleaned.Add(await CleanOneAsync(dir, onLab, ct));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever this journal holds, the others are still cleaned; this one is kept and named.
                onLab?.Invoke($"{id} (could not be cleaned)");
                cleaned.Add(new CleanedLab(id, new TeardownReport(0, [], [$"{dir}: {e.GetType().Name}: {e.Message}; the journal is kept"])));
            }
        }
        return cleaned;
    }

    private async Task<CleanedLab> CleanOneAsync(string dir, Action<string>? onLab, CancellationToken ct)
    {
        var id = Path.GetFileName(dir);
        using var journal = File.Exists(Path.Combine(dir, LabJournal.FileName)) ? LabJournal.Read(dir) : null;
        var header = journal?.Header;
        onLab?.Invoke(journal switch
        {
            { HasHeader: true } => $"{header!.LabId} ({header.Scenario}, started {header.Started:u}, owner PID {header.OwnerPid} gone)",
            not null => $"{id} (a journal without a readable header: its run is gone; what it made is found by the lab id)",
            null => $"{id} (a lab directory without a journal: what the lab made is found by its id)",
        });
        if (!LabJournal.IsLabId(journal?.Header.LabId ?? id))
            return new CleanedLab(id, new TeardownReport(0, journal?.Problems ?? [],
                [$"{dir}: '{id}' is not a lab id, so nothing can be looked for by it; check the directory and remove it by hand"]));
        var stuck = LabTraces.EndDeadRunsPlugins(journal?.Header.LabId ?? id).ToList();
        var report = journal is not null
            ? await new Teardown(runner, runtimes).RunAsync(journal, ct)
            : await SweepOnlyAsync(id, ct);
        if (stuck.Count > 0) report = report with { Leftovers = [.. report.Leftovers, .. stuck] };
        if (report.Clean)
        {
            if (journal is not null) journal.Delete();
            else Directory.Delete(dir, recursive: true);
        }
        return new CleanedLab(journal?.Header.LabId ?? id, report);
    }

    /// <summary>A lab directory without a journal file: nothing to replay, only the lab id to sweep by.</summary>
    private async Task<TeardownReport> SweepOnlyAsync(string labId, CancellationToken ct)
    {
        var sweep = await new LabTraces(runner, runtimes).SweepAsync(labId, ContainerRuntimes.Names.Where(n => runtimes(n).MayHoldContainers), ct: ct);
        return new TeardownReport(0, ["no journal file: only the lab id was swept", .. sweep.Removed.Select(r => $"removed {r}")], sweep.Leftovers);
    }

    /// <summary>
    /// <c>.new-</c> and <c>.gone-</c> directories of runs that died while creating or removing their journal: they owe
    /// nothing (records are written only once a journal is in place), so they are removed.
    /// </summary>
    private void RemoveDeadTransitDirectories(IReadOnlyCollection<string>? ids)
    {
        foreach (var (path, pid) in LabJournal.TransitDirectories(stateRoot))
        {
            if (Processes.IsRunning(pid)) continue;
            if (ids is not null && !ids.Any(id => Path.GetFileName(path).StartsWith($".new-{id}-", StringComparison.Ordinal) ||
                                                  Path.GetFileName(path).StartsWith($".gone-{id}-", StringComparison.Ordinal))) continue;
            try { Directory.Delete(path, recursive: true); }
            catch (DirectoryNotFoundException) { }
        }
    }
}
