using System.Diagnostics;
using System.Globalization;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Platform;

namespace LabRunner.Runtimes;

/// <summary>
/// The built-in runtime: a container is a busybox process (Debian's busybox-static) in network, UTS and IPC
/// namespaces of its own, started with unshare; no daemon. Its PID is the container's PID, as `ctr task ls`
/// would show it. A container joining another's network namespace enters it with nsenter first.
/// </summary>
public sealed class ProcessRuntime(ICommandRunner runner, Action<CommandEvent>? onCommand = null) : IContainerRuntime
{
    /// <summary>Environment variable that labels a container process as LABID/NAME.</summary>
    public const string LabelVariable = "LABRUNNER_CONTAINER";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    public string Name => "process";

    public Task PrepareAsync(CancellationToken ct = default) => Task.CompletedTask;

    /// <summary>The process runtime uses the host's busybox directly: there is no image.</summary>
    public Task SeedImageAsync(CancellationToken ct = default) => Task.CompletedTask;

    public async Task<ContainerHandle> StartAsync(ContainerStartRequest request, LabJournal journal, CancellationToken ct = default)
    {
        var label = Label(request);
        var argv = Argv(request);
        var prestarted = _prestarted.Remove(label, out var early);
        if (!prestarted) JournalRemoval(request, journal);

        if (runner.IsDryRun)
        {
            onCommand?.Invoke(new CommandEvent(CommandPurpose.Action, [.. argv], new CommandOutcome(0, "", "", TimeSpan.Zero)));
            return new ContainerHandle(request.Name, label, $"<{request.Name}.pid>");
        }

        var watch = prestarted ? early.Watch : Stopwatch.StartNew();
        var stderrPath = StderrPath(request, journal);
        int pid;
        if (prestarted) pid = early.Pid;
        else
        {
            try
            {
                pid = SpawnContainer(argv, label, stderrPath);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                onCommand?.Invoke(new CommandEvent(CommandPurpose.Action, [.. argv], new CommandOutcome(127, "", e.Message, watch.Elapsed)));
                throw new ContainerStartException($"container {request.Name} did not start: `{argv.Display()}`: {e.Message}");
            }
        }

        try
        {
            // Wait until unshare has exec'd busybox: from then on /proc/PID/ns/net is the container's namespace.
            while (!ct.IsCancellationRequested)
            {
                if (Spawn.Reap(pid, out var exitCode))
                {
                    var failed = new CommandOutcome(exitCode, "", ReadText(stderrPath), watch.Elapsed);
                    onCommand?.Invoke(new CommandEvent(CommandPurpose.Action, [.. argv], failed));
                    throw new ContainerStartException($"container {request.Name} did not start: `{argv.Display()}` exited {exitCode}: {failed.Error}");
                }
                if (ReadComm(pid) == "busybox") break;
                if (watch.Elapsed > StartTimeout)
                    throw new ContainerStartException($"container {request.Name} (PID {pid}) did not become busybox within {StartTimeout.TotalSeconds:0}s");
                // unshare's exec takes a few milliseconds: a short poll, since a large lab starts hundreds of containers.
                await Task.Delay(1, ct);
            }
        }
        finally
        {
            File.Delete(stderrPath); // busybox sleep writes nothing: the file was only for a start that fails
        }
        ct.ThrowIfCancellationRequested();
        var pidText = pid.ToString(CultureInfo.InvariantCulture);
        onCommand?.Invoke(new CommandEvent(CommandPurpose.Action, [.. argv], new CommandOutcome(0, $"PID {pidText}", "", watch.Elapsed)));
        return new ContainerHandle(request.Name, label, pidText);
    }

    /// <summary>Containers forked ahead of their action (<see cref="Prestart"/>), by label: their PID and when.</summary>
    private readonly Dictionary<string, (int Pid, Stopwatch Watch)> _prestarted = [];

    /// <summary>
    /// Forks a container of its own namespace ahead of its action, journalled first; <see cref="StartAsync"/> waits for
    /// it and reports it. One that cannot be forked now is left to StartAsync, which tries again and says why.
    /// </summary>
    public void Prestart(ContainerStartRequest request, LabJournal journal)
    {
        if (runner.IsDryRun || request.ShareNetnsWith is not null) return;
        var label = Label(request);
        if (_prestarted.ContainsKey(label)) return;
        JournalRemoval(request, journal);
        var watch = Stopwatch.StartNew();
        try
        {
            _prestarted[label] = (SpawnContainer(Argv(request), label, StderrPath(request, journal)), watch);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // StartAsync forks it again and reports the failure with its message.
        }
    }

    /// <summary>A container of its own namespace, or one joining another container's (a pod).</summary>
    private static string[] Argv(ContainerStartRequest request) => request.ShareNetnsWith is { } owner
        ? ["setsid", "nsenter", "-t", owner.Pid, "-n", "--", "unshare", "--uts", "--ipc", "--", "busybox", "sleep", "2147483647"]
        : ["setsid", "unshare", "--net", "--uts", "--ipc", "--", "busybox", "sleep", "2147483647"];

    // Write-ahead: the undo finds the process by its label, so even a crash right after the fork is covered.
    private void JournalRemoval(ContainerStartRequest request, LabJournal journal) =>
        journal.Append(new UndoRemoveContainer($"stop container {request.Name}", Name, Label(request)) { Resource = Engine.ActionExecutor.ContainerResource(request.Id) });

    // stdin and stdout /dev/null, stderr into the lab's state directory (unshare's or nsenter's message if it fails),
    // no other descriptor: a container never holds our pipes, our caller's files or its lock (Platform/Spawn.cs).
    private static int SpawnContainer(string[] argv, string label, string stderrPath) =>
        Spawn.Start(argv, new Dictionary<string, string> { [LabelVariable] = label }, stderrPath);

    private static string StderrPath(ContainerStartRequest request, LabJournal journal) =>
        Path.Combine(journal.Directory ?? Path.GetTempPath(), $"container-{request.Name}.stderr");

    /// <summary>The label in the process's environment: lab id and scenario name, unique on the machine.</summary>
    public static string Label(ContainerStartRequest request) => $"{request.LabId}/{request.Name}";

    public Task<CommandOutcome> ExecAsync(ContainerHandle container, IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default) =>
        runner.RunAsync(["nsenter", "-t", container.Pid, "-n", "-u", "--", "busybox", .. argv], purpose, ct);

    /// <summary>Kills every live process carrying the label (found in /proc, so a PID reused since cannot be hit).</summary>
    public async Task<string?> RemoveAsync(string id, CancellationToken ct = default)
    {
        if (runner.IsDryRun)
        {
            await runner.RunAsync(["kill", "-KILL", $"<{id[(id.IndexOf('/') + 1)..]}.pid>"], CommandPurpose.Teardown, ct);
            return null;
        }
        foreach (var pid in Processes.WithEnvironment(LabelVariable, id))
        {
            await runner.RunAsync(["kill", "-KILL", pid.ToString(CultureInfo.InvariantCulture)], CommandPurpose.Teardown, ct);
            await WaitGoneAsync(pid, ct);
        }
        return null;
    }

    /// <summary>
    /// Teardown's removal of all a lab's processes: one scan of /proc for the labels, one <c>kill -KILL</c> for every
    /// PID found (not a scan and a kill per container: with N containers that was N scans of every process).
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> RemoveManyAsync(IReadOnlyList<string> ids, CancellationToken ct = default)
    {
        var none = new Dictionary<string, string>();
        if (runner.IsDryRun)
        {
            if (ids.Count > 0)
                await runner.RunAsync(["kill", "-KILL", .. ids.Select(id => $"<{id[(id.IndexOf('/') + 1)..]}.pid>")], CommandPurpose.Teardown, ct);
            return none;
        }
        var wanted = ids.ToHashSet(StringComparer.Ordinal);
        var pids = Processes.WithEnvironmentName(LabelVariable).Where(p => wanted.Contains(p.Value)).Select(p => p.Pid).ToList();
        if (pids.Count == 0) return none;
        await runner.RunAsync(["kill", "-KILL", .. pids.Select(p => p.ToString(CultureInfo.InvariantCulture))], CommandPurpose.Teardown, ct);
        foreach (var pid in pids) await WaitGoneAsync(pid, ct);
        return none;
    }

    public Task<Presence> FindAsync(string id, CancellationToken ct = default) =>
        Task.FromResult(Processes.WithEnvironment(LabelVariable, id).Count > 0 ? Presence.Present : Presence.Absent);

    /// <summary>Processes labelled LABID/… (containers and a capture's tcpdumps), by label.</summary>
    public Task<LabContainers> ListLabAsync(string labId, CancellationToken ct = default) =>
        Task.FromResult(new LabContainers([.. Processes.WithEnvironmentName(LabelVariable)
            .Where(p => p.Value.StartsWith(labId + "/", StringComparison.Ordinal))
            .Select(p => new LabContainer(p.Value, p.Pid))]));

    public bool MayHoldContainers => true;

    public async Task StopAsync(ContainerHandle container, CancellationToken ct = default)
    {
        await runner.RunAsync(["kill", "-KILL", container.Pid], CommandPurpose.Action, ct);
        if (!runner.IsDryRun) await WaitGoneAsync(int.Parse(container.Pid, CultureInfo.InvariantCulture), ct);
    }

    internal static async Task WaitGoneAsync(int pid, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Processes.IsRunning(pid) && DateTime.UtcNow < deadline) await Task.Delay(5, ct);
        Spawn.Reap(pid, out _); // our own container: no zombie (a dead run's is not our child, and this does nothing)
    }

    private static string ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return ""; }
    }

    private static string? ReadComm(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch (IOException) { return null; }
    }
}

public sealed class ContainerStartException(string message) : Exception(message);
