using LabRunner.Execution;
using LabRunner.Journal;

namespace LabRunner.Runtimes;

/// <summary>A running container: what the article reads off `ctr task ls` (its PID) plus its runtime id.</summary>
public sealed record ContainerHandle(string Name, string Id, string Pid);

/// <param name="Id">The runtime's name for it: the scenario's name with --host, prefixed with the lab id in a sandbox.</param>
public sealed record ContainerStartRequest(
    string LabId,
    string Name,
    string Id,
    string Image,
    ContainerHandle? ShareNetnsWith);

/// <summary>
/// Starts, enters and removes containers. A runtime journals the undo of a start before starting (write-ahead),
/// labels the container with the lab id, and reports every command it runs so transcripts show them.
/// </summary>
public interface IContainerRuntime
{
    /// <summary>process, containerd or docker: what --runtime and the journal call it.</summary>
    string Name { get; }

    /// <summary>Before the lab: is the runtime reachable, is its image there (seeded when missing)? Throws EnvironmentProblemException.</summary>
    Task PrepareAsync(CancellationToken ct = default);

    /// <summary>`labrunner image seed`: (re)builds the busybox image from busybox-static and imports it.</summary>
    Task SeedImageAsync(CancellationToken ct = default);

    Task<ContainerHandle> StartAsync(ContainerStartRequest request, LabJournal journal, CancellationToken ct = default);

    /// <summary>
    /// Begins a container's start ahead of its action (journalled first, as always), so that a step's containers start
    /// at once; <see cref="StartAsync"/> then finishes it and reports it. A runtime that cannot does nothing.
    /// </summary>
    void Prestart(ContainerStartRequest request, LabJournal journal) { }

    /// <summary>Runs <paramref name="argv"/> inside the container (the article's "in busybox-1: ping ...").</summary>
    Task<CommandOutcome> ExecAsync(ContainerHandle container, IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default);

    Task StopAsync(ContainerHandle container, CancellationToken ct = default);

    /// <summary>Teardown and `clean`: removes the container with this id if it is there. Null when done, else the problem.</summary>
    Task<string?> RemoveAsync(string id, CancellationToken ct = default);

    /// <summary>
    /// Teardown: removes these containers; the problems by id (none: all done). One at a time unless a runtime can do
    /// better (the process runtime: one /proc scan and one kill for all).
    /// </summary>
    async Task<IReadOnlyDictionary<string, string>> RemoveManyAsync(IReadOnlyList<string> ids, CancellationToken ct = default)
    {
        var problems = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in ids)
            if (await RemoveAsync(id, ct) is { } problem) problems[id] = problem;
        return problems;
    }

    /// <summary>
    /// The leftover check after teardown: is the container (or its process) still there? A daemon that does not answer
    /// is <see cref="Presence.Unknown"/>, never "gone".
    /// </summary>
    Task<Presence> FindAsync(string id, CancellationToken ct = default);

    /// <summary>
    /// Every container carrying the lab's label (labrunner.lab=LABID; for the process runtime, LABRUNNER_CONTAINER=LABID/…),
    /// journalled or not: what teardown and `clean` remove when a journal cannot be trusted to name everything.
    /// </summary>
    Task<LabContainers> ListLabAsync(string labId, CancellationToken ct = default);

    /// <summary>Whether this runtime could hold anything at all here (its daemon's socket exists; the process runtime always).</summary>
    bool MayHoldContainers { get; }
}

/// <summary>Whether a container is there. "Cannot tell" (a daemon that does not answer) is neither yes nor no.</summary>
public sealed record Presence(bool? Exists, string? WhyUnknown = null)
{
    public static readonly Presence Absent = new(false);
    public static readonly Presence Present = new(true);

    public static Presence Unknown(string why) => new(null, why);
}

/// <summary>A lab's containers in one runtime, with the PID of each that runs; or, when the runtime cannot tell, why.</summary>
public sealed record LabContainers(IReadOnlyList<LabContainer> Containers, string? WhyUnknown = null)
{
    public static LabContainers Unknown(string why) => new([], why);
}

/// <summary>A container found by its lab label: the id its runtime removes it by, and its PID if it runs.</summary>
public sealed record LabContainer(string Id, int? Pid);

/// <summary>The runtimes by name, as --runtime and journals name them.</summary>
public static class ContainerRuntimes
{
    public static readonly IReadOnlyList<string> Names = ["process", "containerd", "docker"];

    public static IContainerRuntime Create(string name, ICommandRunner runner, Action<CommandEvent>? onCommand = null) => name switch
    {
        "process" => new ProcessRuntime(runner, onCommand),
        "containerd" => new ContainerdRuntime(runner),
        "docker" => new DockerRuntime(runner, onCommand),
        _ => throw new ArgumentException($"unknown container runtime '{name}'; known: {string.Join(", ", Names)}", nameof(name)),
    };
}
