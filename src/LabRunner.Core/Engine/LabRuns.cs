using System.Globalization;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Platform;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

/// <summary>
/// A place of a run, as its journal names it: the host, a network namespace the lab made (<see cref="Netns"/>: its
/// physical name), or a container (<see cref="Runtime"/> and <see cref="ContainerId"/>, how its runtime knows it).
/// </summary>
public sealed record RunPlace(string Name, PlaceKind Kind, string? Netns = null, string? Runtime = null, string? ContainerId = null);

/// <summary>
/// One run with a journal in the state directory (live, or dead and not cleaned yet): what `labrunner ls` shows and
/// what `exec`, `shell` and `clean ID` find runs by. Read from the journal alone; nothing is run to make it.
/// </summary>
/// <param name="Id">The lab id (the journal directory's name).</param>
/// <param name="Header">The journal's header; null when it cannot be read (the run's owner is then unknown).</param>
/// <param name="Alive">Whether the run's owner still runs (PID and start time), or for a journal without a header whether a process holds it open.</param>
/// <param name="Places">The places the run has now: the host, the namespaces it made and not deleted, its containers not stopped.</param>
/// <param name="Problems">What reading the journal found wrong (a damaged journal), or why it could not be read.</param>
public sealed record RunInfo(
    string Id,
    string Directory,
    JournalHeader? Header,
    bool Alive,
    JournalStep? Step,
    IReadOnlyList<string> Runtimes,
    IReadOnlyList<RunPlace> Places,
    IReadOnlyList<string> Problems)
{
    /// <summary>The lab's name: recorded in the header, or (journals of earlier versions) the lab file's name without extension.</summary>
    public string Lab =>
        Header?.Lab ?? (Header is { Scenario: { Length: > 0 } file } && Path.GetFileNameWithoutExtension(file) is { Length: > 0 } stem ? stem : "?");

    /// <summary>The runtime the run was started with, or the ones its journal names containers of.</summary>
    public string Runtime => Header?.Runtime ?? (Runtimes.Count > 0 ? string.Join(",", Runtimes) : "-");

    public int? OwnerPid => Header?.OwnerPid is > 0 and var pid ? pid : null;

    /// <summary>The current step as `ls` shows it: "3.4 (19/25)", "#8 (8/25)", or "-" before the first.</summary>
    public string StepText => Step is { } s ? $"{s.Number ?? $"#{s.Position}"} ({s.Position}/{s.Count})" : "-";
}

/// <summary>
/// The runs of a state directory (`labrunner ls`), and a run and a place named on the command line (`labrunner exec
/// LAB PLACE`, `shell`): a run by its id, its lab's name or its lab file's name; a place by the lab's name for it.
/// </summary>
public static class LabRuns
{
    /// <summary>Every run with a journal under <paramref name="stateRoot"/>, oldest first.</summary>
    public static IReadOnlyList<RunInfo> List(string stateRoot) =>
        [.. LabJournal.Directories(stateRoot).Select(Read).OrderBy(r => r.Header?.Started ?? DateTimeOffset.MinValue).ThenBy(r => r.Id, StringComparer.Ordinal)];

    /// <summary>One run's journal directory, read. Never throws for what is in it.</summary>
    public static RunInfo Read(string directory)
    {
        var id = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        var path = Path.Combine(directory, LabJournal.FileName);
        try
        {
            using var journal = LabJournal.Read(directory);
            var header = journal.HasHeader ? journal.Header : null;
            // Owner unknown: a run keeps its journal open, so one that a process holds is live.
            var alive = header is not null ? Processes.IsRunning(header.OwnerPid, header.OwnerStartTime) : Processes.AnyHasOpen(path);
            var pending = journal.PendingNewestFirst();
            var runtimes = pending.OfType<UndoRemoveContainer>().Where(c => c.Resource?.Kind == ResourceKind.Container)
                .Select(c => c.Runtime).Distinct().Order(StringComparer.Ordinal).ToList();
            return new RunInfo(id, directory, header, alive, journal.CurrentStep, runtimes, PlacesOf(id, header, pending), journal.Problems);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var alive = Processes.AnyHasOpen(directory) || Processes.AnyHasOpen(path);
            return new RunInfo(id, directory, null, alive, null, [], [], [$"the journal cannot be read: {e.Message}"]);
        }
    }

    /// <summary>
    /// The places the pending records name. A sandbox's host is its lr-ID namespace (the far end of its uplink, lr-ID_wan,
    /// is no place of the lab); --host's host is the owner's own namespace; a container is named by its id (LABID/NAME
    /// for the process runtime, lr-LABID-NAME or NAME for the others).
    /// </summary>
    private static List<RunPlace> PlacesOf(string id, JournalHeader? header, IReadOnlyList<UndoRecord> pending)
    {
        var sandbox = header?.Sandbox ?? true;
        var hostNetns = $"lr-{id}";
        var prefix = $"lr-{id}-";
        var places = new List<RunPlace>();
        var oldestFirst = pending.Reverse().ToList();
        if (!sandbox) places.Add(new RunPlace("host", PlaceKind.Host));
        foreach (var undo in oldestFirst)
        {
            if (undo.Resource is not { } resource) continue;
            if (resource.Kind == ResourceKind.Netns)
            {
                if (sandbox && resource.Name == hostNetns) places.Insert(0, new RunPlace("host", PlaceKind.Host, resource.Name));
                else if (sandbox && resource.Name.StartsWith(prefix, StringComparison.Ordinal)) places.Add(new RunPlace(resource.Name[prefix.Length..], PlaceKind.Netns, resource.Name));
                else if (!sandbox) places.Add(new RunPlace(resource.Name, PlaceKind.Netns, resource.Name));
            }
            else if (resource.Kind == ResourceKind.Container && undo is UndoRemoveContainer container)
            {
                var name = sandbox && resource.Name.StartsWith(prefix, StringComparison.Ordinal) ? resource.Name[prefix.Length..] : resource.Name;
                places.Add(new RunPlace(name, PlaceKind.Container, Runtime: container.Runtime, ContainerId: container.Id));
            }
        }
        return [.. places.DistinctBy(p => p.Name)];
    }

    /// <summary>
    /// The live run <paramref name="lab"/> names: its id, its lab's name, or its lab file's name (article for
    /// article.yaml). A name that several live runs share, a dead run, or no run at all is a <see cref="UsageException"/>.
    /// </summary>
    public static RunInfo FindLive(string stateRoot, string lab)
    {
        var runs = List(stateRoot);
        var matches = runs.Where(r => r.Id == lab).ToList();
        if (matches.Count == 0) matches = [.. runs.Where(r => r.Lab == lab || FileStem(r) == lab)];
        var live = matches.Where(r => r.Alive).ToList();
        if (live.Count == 1) return live[0];
        if (live.Count > 1)
            throw new UsageException($"{live.Count} live runs are of lab {lab}: {string.Join(", ", live.Select(r => r.Id))}",
                $"name one by its id, e.g. {live[0].Id} (labrunner ls lists them)");
        if (matches.Count > 0)
        {
            var dead = matches[^1];
            throw new UsageException($"run {dead.Id} of lab {dead.Lab} is not live: its owner{(dead.OwnerPid is { } pid ? $" (PID {pid})" : "")} is gone",
                $"labrunner clean{(stateRoot == LabJournal.DefaultRoot ? "" : $" --state-dir {stateRoot}")} {dead.Id} removes what it left; run the lab again to look around it");
        }
        var known = runs.Where(r => r.Alive).ToList();
        var near = Suggest.Nearest(lab, known.SelectMany(r => new[] { r.Id, r.Lab }).Distinct()) is { } n ? $" (did you mean {n}?)" : "";
        throw new UsageException($"no live run {lab} in {stateRoot}{near}",
            known.Count == 0 ? "no lab is running; start one with labrunner run LAB.yaml --step" : $"live runs: {string.Join(", ", known.Select(r => $"{r.Id} ({r.Lab})"))}");
    }

    /// <summary>The place of <paramref name="run"/> named <paramref name="place"/>, or a <see cref="UsageException"/> listing its places.</summary>
    public static RunPlace Place(RunInfo run, string place)
    {
        if (run.Places.FirstOrDefault(p => p.Name == place) is { } found) return found;
        var near = Suggest.Nearest(place, run.Places.Select(p => p.Name)) is { } n ? $" (did you mean {n}?)" : "";
        throw new UsageException($"run {run.Id} of lab {run.Lab} has no place {place} now{near}",
            run.Places.Count == 0 ? "it has none yet" : $"its places: {string.Join(", ", run.Places.Select(p => p.Name))}");
    }

    /// <summary>
    /// How commands reach a place (<see cref="NetTarget.Exec"/>): a named namespace with <c>ip netns exec</c>, --host's
    /// host and containers by PID with <c>nsenter -t PID -n</c> (a container's PID is asked of its runtime).
    /// </summary>
    public static async Task<NetTarget> TargetAsync(RunInfo run, RunPlace place, Func<string, IContainerRuntime> runtimes, CancellationToken ct = default)
    {
        switch (place.Kind)
        {
            case PlaceKind.Host when place.Netns is null:
                return run.OwnerPid is { } owner
                    ? new PidTarget(place.Name, owner.ToString(CultureInfo.InvariantCulture))
                    : throw new UsageException($"run {run.Id}'s owner is unknown (its journal has no header), so its host cannot be found");
            case PlaceKind.Host or PlaceKind.Netns:
                return new NamedNetnsTarget(place.Name, place.Netns!);
        }
        var runtime = runtimes(place.Runtime ?? "process");
        var containers = await runtime.ListLabAsync(run.Id, ct);
        if (containers.WhyUnknown is { } why)
            throw new EnvironmentProblemException($"cannot find container {place.Name} of run {run.Id}: {why}", $"start {runtime.Name}, then try again");
        return containers.Containers.FirstOrDefault(c => c.Id == place.ContainerId) is { Pid: { } pid }
            ? new PidTarget(place.Name, pid.ToString(CultureInfo.InvariantCulture))
            : throw new UsageException($"container {place.Name} of run {run.Id} is not running", $"labrunner ls shows where run {run.Id} is");
    }

    private static string? FileStem(RunInfo run) =>
        run.Header is { Scenario: { Length: > 0 } file } ? Path.GetFileNameWithoutExtension(file) : null;
}
