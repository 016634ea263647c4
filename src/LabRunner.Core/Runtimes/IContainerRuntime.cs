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

    /// <summary>Runs <paramref name="argv"/> inside the container (the article's "in busybox-1: ping ...").</summary>
    Task<CommandOutcome> ExecAsync(ContainerHandle container, IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default);

    Task StopAsync(ContainerHandle container, CancellationToken ct = default);

    /// <summary>Teardown and `clean`: removes the container with this id if it is there. Null when done, else the problem.</summary>
    Task<string?> RemoveAsync(string id, CancellationToken ct = default);

    /// <summary>The leftover check after teardown: is the container (or its process) still there?</summary>
    Task<bool> ExistsAsync(string id, CancellationToken ct = default);
}

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
