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
            var path = Path.Combine(dir, LabJournal.FileName);
            if (!File.Exists(path)) continue;
            JournalHeader header;
            try
            {
                header = LabJournal.Read(dir).Header;
            }
            catch (InvalidDataException)
            {
                // The header is written before any action: a journal without one belongs to a run that died before
                // doing anything (or one being created this instant: hence the age check). Nothing to undo.
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(path) > TimeSpan.FromSeconds(30)) Directory.Delete(dir, recursive: true);
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
            using var journal = LabJournal.Read(dir);
            onLab?.Invoke($"{journal.Header.LabId} ({journal.Header.Scenario}, started {journal.Header.Started:u}, owner PID {journal.Header.OwnerPid} gone)");
            var report = await new Teardown(runner, runtimes).RunAsync(journal, ct);
            if (report.Clean) journal.Delete();
            cleaned.Add(new CleanedLab(journal.Header.LabId, journal.Header.Scenario, report));
        }
        return cleaned;
    }
}
