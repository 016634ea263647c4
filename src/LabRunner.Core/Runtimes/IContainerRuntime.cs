using LabRunner.Execution;
using LabRunner.Journal;

namespace LabRunner.Runtimes;

/// <summary>A running container: what the article reads off `ctr task ls` (its PID) plus its runtime id.</summary>
public sealed record ContainerHandle(string Name, string Id, string Pid);

public sealed record ContainerStartRequest(
    string LabId,
    string Name,
    string Image,
    ContainerHandle? ShareNetnsWith);

/// <summary>
/// Starts, enters and stops containers. Each runtime journals the undo of a start before starting,
/// labels the container with the lab id (so `clean` finds it after a crash), and reports the commands it runs.
/// </summary>
public interface IContainerRuntime
{
    string Name { get; }

    Task<ContainerHandle> StartAsync(ContainerStartRequest request, LabJournal journal, CancellationToken ct = default);

    /// <summary>argv that runs <paramref name="argv"/> inside the container (the article's "in busybox-1: ...").</summary>
    IReadOnlyList<string> ExecArgv(ContainerHandle container, IReadOnlyList<string> argv);

    Task StopAsync(ContainerHandle container, CancellationToken ct = default);
}
