using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Platform;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

public sealed record CleanedLab(string LabId, string Scenario, TeardownReport Report);

/// <summary>
/// `labrunner clean`: replays the journal of every run whose owner process is gone (killed, crashed, power cut
/// of the process). It removes only what those journals say their labs made; it never searches by name pattern.
/// </summary>
public sealed class Cleaner(ICommandRunner runner, Func<string, IContainerRuntime> runtimes, string stateRoot = LabJournal.DefaultRoot)
{
    /// <summary>Journals of dead runs, oldest first. Journals of live runs are left alone.</summary>
    public IReadOnlyList<string> OrphanedJournals()
    {
        if (!Directory.Exists(stateRoot)) return [];
        var orphans = new List<(DateTimeOffset, string)>();
        foreach (var dir in Directory.EnumerateDirectories(stateRoot))
        {
            if (!File.Exists(Path.Combine(dir, LabJournal.FileName))) continue;
            JournalHeader header;
            try
            {
                using var journal = LabJournal.Read(dir);
                header = journal.Header;
            }
            catch (InvalidDataException)
            {
                // No header: the run died while creating its journal, before any action (the header is written
                // first), or it is writing it right now, and then holds the file open (a run keeps its journal open).
                if (!Processes.AnyHasOpen(Path.Combine(dir, LabJournal.FileName)))
                    orphans.Add((DateTimeOffset.MinValue, dir));
                continue;
            }
            if (Processes.IsRunning(header.OwnerPid, header.OwnerStartTime)) continue;
            orphans.Add((header.Started, dir));
        }
        return [.. orphans.OrderBy(o => o.Item1).Select(o => o.Item2)];
    }

    public async Task<IReadOnlyList<CleanedLab>> CleanAsync(Action<string>? onLab = null, CancellationToken ct = default)
    {
        var cleaned = new List<CleanedLab>();
        foreach (var dir in OrphanedJournals())
        {
            if (IsHeaderless(dir))
            {
                onLab?.Invoke($"{Path.GetFileName(dir)} (a journal without a header: its run died before its first action)");
                Directory.Delete(dir, recursive: true);
                cleaned.Add(new CleanedLab(Path.GetFileName(dir), "", new TeardownReport(0, [], [])));
                continue;
            }
            using var journal = LabJournal.Read(dir);
            onLab?.Invoke($"{journal.Header.LabId} ({journal.Header.Scenario}, started {journal.Header.Started:u}, owner PID {journal.Header.OwnerPid} gone)");
            var report = await new Teardown(runner, runtimes).RunAsync(journal, ct);
            if (report.Clean) journal.Delete();
            cleaned.Add(new CleanedLab(journal.Header.LabId, journal.Header.Scenario, report));
        }
        return cleaned;
    }

    /// <summary>A journal whose header line never made it to disk holds no record either (records follow the header).</summary>
    private static bool IsHeaderless(string dir)
    {
        try
        {
            using var journal = LabJournal.Read(dir);
            return false;
        }
        catch (InvalidDataException)
        {
            return true;
        }
    }
}
