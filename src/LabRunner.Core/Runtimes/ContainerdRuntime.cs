using System.Globalization;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;

namespace LabRunner.Runtimes;

/// <summary>
/// containerd through `ctr`, with the article's own calls: `ctr run -d IMAGE ID`, the PID from `ctr task ls`,
/// `ctr task exec --exec-id`, and `--with-ns network:PATH` for a container joining another's namespace.
/// Containers live in containerd's "default" namespace and carry the label labrunner.lab=LABID.
/// </summary>
public sealed class ContainerdRuntime(ICommandRunner runner) : IContainerRuntime
{
    public const string DefaultSocket = "/run/containerd/containerd.sock";

    /// <summary>containerd's socket: $CONTAINERD_ADDRESS when set (ctr itself honours it), else the default.</summary>
    public static string Socket => Environment.GetEnvironmentVariable("CONTAINERD_ADDRESS") is { Length: > 0 } address ? address : DefaultSocket;

    public const string LabLabel = "labrunner.lab";
    private static readonly string[] Ctr = ["ctr", "-n", "default"];
    private static readonly string[] NotFound = ["not found", "no such"];
    private int _execs;

    public string Name => "containerd";

    /// <summary>Fails with exit-3 advice when containerd does not answer; imports busybox when it is missing.</summary>
    public async Task PrepareAsync(CancellationToken ct = default)
    {
        // No socket, no daemon: say so at once (ctr would try to dial it for 10 s, then print a gRPC error).
        if (!runner.IsDryRun && !File.Exists(Socket))
            throw new EnvironmentProblemException($"containerd is not running: there is no socket at {Socket}", StartFix());
        var version = await runner.RunAsync([.. Ctr, "version"], CommandPurpose.Setup, ct);
        if (!version.Succeeded)
            throw new EnvironmentProblemException($"containerd does not answer on {Socket}: {LastLine(version.Error)}", StartFix());
        var images = await runner.RunAsync([.. Ctr, "images", "ls", "-q"], CommandPurpose.Setup, ct);
        if (runner.IsDryRun || images.Stdout.Split('\n').Any(l => l.Trim() == BusyboxImage.Reference)) return;
        await SeedImageAsync(ct);
    }

    /// <summary>`labrunner image seed`: imports docker.io/library/busybox:latest, built from busybox-static.</summary>
    public async Task SeedImageAsync(CancellationToken ct = default)
    {
        var archive = Path.Combine(Path.GetTempPath(), $"labrunner-busybox-{Environment.ProcessId}.oci.tar");
        try
        {
            await BusyboxImage.WriteOciArchiveAsync(archive, runner, ct);
            var import = await runner.RunAsync([.. Ctr, "images", "import", archive], CommandPurpose.Setup, ct);
            if (!import.Succeeded) throw new EnvironmentProblemException($"could not import the busybox image into containerd: {import.Error}", "check containerd's log; is there space in /var/lib/containerd?");
        }
        finally
        {
            File.Delete(archive);
        }
    }

    public async Task<ContainerHandle> StartAsync(ContainerStartRequest request, LabJournal journal, CancellationToken ct = default)
    {
        // Write-ahead: the id is chosen before the start, so the undo is on disk before anything exists.
        var seq = journal.Append(new UndoRemoveContainer($"remove container {request.Name}", Name, request.Id) { Resource = ActionExecutor.ContainerResource(request.Id) });
        string[] share = request.ShareNetnsWith is { } owner ? ["--with-ns", $"network:/proc/{owner.Pid}/ns/net"] : [];
        var run = await runner.RunAsync(
            [.. Ctr, "run", "-d", "--label", $"{LabLabel}={request.LabId}", .. share, BusyboxImage.Reference, request.Id, "sleep", "2147483647"],
            CommandPurpose.Action, ct);
        if (!run.Succeeded)
        {
            // A container of that name that was there before is someone else's: teardown must not remove it.
            if (run.Output.Contains("already exists", StringComparison.Ordinal)) journal.Cancel(seq);
            throw new ContainerStartException($"container {request.Name} did not start: {run.Error}");
        }
        if (runner.IsDryRun) return new ContainerHandle(request.Name, request.Id, $"<{request.Name}.pid>");

        var tasks = await runner.RunAsync([.. Ctr, "task", "ls"], CommandPurpose.Action, ct);
        var pid = tasks.Stdout.Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .FirstOrDefault(f => f.Length >= 3 && f[0] == request.Id && f[2] == "RUNNING")?[1];
        return pid is null
            ? throw new ContainerStartException($"container {request.Name} is not RUNNING in `ctr task ls`: {tasks.Stdout.Trim()}")
            : new ContainerHandle(request.Name, request.Id, pid);
    }

    public Task<CommandOutcome> ExecAsync(ContainerHandle container, IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
    {
        // exec ids must be unique among the task's live execs; checks may run while others do.
        var execId = $"lr{Interlocked.Increment(ref _execs).ToString(CultureInfo.InvariantCulture)}";
        return runner.RunAsync([.. Ctr, "task", "exec", "--exec-id", execId, container.Id, .. argv], purpose, ct);
    }

    public async Task StopAsync(ContainerHandle container, CancellationToken ct = default) =>
        await RemoveAsync(container.Id, ct);

    public async Task<string?> RemoveAsync(string id, CancellationToken ct = default)
    {
        // No socket: ctr would wait 10 s to dial it, then fail; say at once why nothing can be removed.
        if (!runner.IsDryRun && !File.Exists(Socket)) return $"cannot remove container {id}: {NotRunning()}";
        // `task rm -f` kills the task if it runs; `c rm` also removes the container's snapshot.
        var task = await runner.RunAsync([.. Ctr, "task", "rm", "-f", id], CommandPurpose.Teardown, ct);
        if (!task.Succeeded && !IsNotFound(task)) return $"`ctr task rm -f {id}` failed: {task.Error}";
        var container = await runner.RunAsync([.. Ctr, "containers", "rm", id], CommandPurpose.Teardown, ct);
        return container.Succeeded || IsNotFound(container) ? null : $"`ctr containers rm {id}` failed: {container.Error}";
    }

    public async Task<Presence> FindAsync(string id, CancellationToken ct = default)
    {
        if (!File.Exists(Socket)) return Presence.Unknown(NotRunning());
        var info = await runner.RunAsync([.. Ctr, "containers", "info", id], CommandPurpose.Check, ct);
        return info.Succeeded ? Presence.Present
            : IsNotFound(info) ? Presence.Absent
            : Presence.Unknown($"containerd does not answer on {Socket}: {LastLine(info.Error)}");
    }

    public async Task<LabContainers> ListLabAsync(string labId, CancellationToken ct = default)
    {
        if (!File.Exists(Socket)) return LabContainers.Unknown(NotRunning());
        var list = await runner.RunAsync([.. Ctr, "containers", "ls", "-q", $"labels.\"{LabLabel}\"=={labId}"], CommandPurpose.Check, ct);
        if (!list.Succeeded) return LabContainers.Unknown($"containerd does not answer on {Socket}: {LastLine(list.Error)}");
        var ids = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length == 0) return new LabContainers([]);
        // `ctr task ls`: TASK PID STATUS, for the PIDs that /var/run/netns links of the lab may point into.
        var tasks = await runner.RunAsync([.. Ctr, "tasks", "ls"], CommandPurpose.Check, ct);
        var pids = tasks.Stdout.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 2 && int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0)
            .ToDictionary(f => f[0], f => int.Parse(f[1], CultureInfo.InvariantCulture));
        return new LabContainers([.. ids.Select(id => new LabContainer(id, pids.TryGetValue(id, out var pid) ? pid : null))]);
    }

    public bool MayHoldContainers => File.Exists(Socket);

    private static string NotRunning() => $"containerd is not running (no socket at {Socket})";

    private static string StartFix() =>
        Socket == DefaultSocket
            ? "start it with `bash vagrant/provision.sh --runtimes` (installs and starts containerd), or `systemctl start containerd`"
            : $"start containerd on {Socket}, or unset CONTAINERD_ADDRESS to use {DefaultSocket}";

    /// <summary>ctr's errors end with the cause (e.g. "connection refused"); the rest is noise on a one-line report.</summary>
    private static string LastLine(string error) => error.Split(" | ", StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? error;

    private static bool IsNotFound(CommandOutcome outcome) =>
        NotFound.Any(n => outcome.Output.Contains(n, StringComparison.OrdinalIgnoreCase));
}
