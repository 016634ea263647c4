using System.Globalization;
using LabRunner.Execution;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

/// <summary>What a sweep removed beyond the journal's records, and what is still there (or cannot be told) afterwards.</summary>
public sealed record SweepResult(IReadOnlyList<string> Removed, IReadOnlyList<string> Leftovers);

/// <summary>
/// Everything on the machine that carries one lab's id, found without the journal: named namespaces <c>lr-ID</c>,
/// <c>lr-ID-*</c>, <c>lr-ID_wan</c> (and nsfs mounts of those names); containers labelled <c>labrunner.lab=ID</c> in
/// containerd and Docker; processes labelled <c>LABRUNNER_CONTAINER=ID/…</c> (process-runtime containers and
/// captures' tcpdumps) or <c>CNI_CONTAINERID=labrunner-ID-…</c> (a dead run's CNI plugins: <see cref="EndDeadRunsPlugins"/>); and /var/run/netns links into those containers' PIDs. Teardown and `clean` sweep them after
/// replaying the journal, so a journal that is damaged, cut short or wrong still leaves nothing; what cannot be
/// removed, or cannot be looked for (a runtime's daemon is down), is named. Never a looser pattern than the lab id.
/// </summary>
public sealed class LabTraces(ICommandRunner runner, Func<string, IContainerRuntime> runtimes)
{
    private const string NetnsDir = "/var/run/netns";

    /// <summary>/var/run/netns links into the PIDs of the lab's containers, found by the lab's labels (before they are removed).</summary>
    public async Task<IReadOnlyList<(string Path, string Target)>> LinksIntoLabAsync(string labId, IEnumerable<string> runtimeNames, CancellationToken ct = default)
    {
        if (!Directory.Exists(NetnsDir) || !Directory.EnumerateFileSystemEntries(NetnsDir).Any(p => new FileInfo(p).LinkTarget is not null)) return [];
        var pids = new HashSet<int>();
        foreach (var runtime in runtimeNames.Distinct().Select(runtimes))
            pids.UnionWith((await runtime.ListLabAsync(labId, ct)).Containers.Select(c => c.Pid).OfType<int>());
        return PidLinks(pids);
    }

    /// <param name="runtimeNames">The runtimes to look in: those the journal names, or every one that may hold containers.</param>
    /// <param name="earlierLinks">Links into the lab's containers found before they were removed (<see cref="LinksIntoLabAsync"/>).</param>
    public async Task<SweepResult> SweepAsync(string labId, IEnumerable<string> runtimeNames, IReadOnlyList<(string Path, string Target)>? earlierLinks = null,
        CancellationToken ct = default)
    {
        var removed = new List<string>();
        var leftovers = new List<string>();
        var lookIn = runtimeNames.Distinct().Select(runtimes).ToList();

        // 1. Containers first (and their PIDs, before they are gone: /var/run/netns/PID links point into them).
        var containers = new List<(IContainerRuntime Runtime, LabContainer Container)>();
        foreach (var runtime in lookIn)
        {
            var found = await runtime.ListLabAsync(labId, ct);
            if (found.WhyUnknown is { } why)
                leftovers.Add($"cannot tell whether {runtime.Name} still holds containers of lab {labId}: {why}; " +
                              $"start it, then run `labrunner clean`");
            containers.AddRange(found.Containers.Select(c => (runtime, c)));
        }
        var pids = containers.Select(c => c.Container.Pid).OfType<int>().ToHashSet();
        var links = PidLinks(pids).Union(earlierLinks ?? []).ToList();
        foreach (var (runtime, container) in containers)
        {
            if (await runtime.RemoveAsync(container.Id, ct) is { } problem) leftovers.Add(problem);
            else removed.Add($"{runtime.Name} container {container.Id}");
        }

        // 2. Links into those containers' namespaces, if they still point there.
        foreach (var (path, target) in links)
        {
            if (new FileInfo(path).LinkTarget != target) continue;
            var rm = await runner.RunAsync(["rm", path], CommandPurpose.Teardown, ct);
            if (rm.Succeeded) removed.Add(path);
            else leftovers.Add($"{path} still exists: `rm {path}` failed: {rm.Error}");
        }

        // 3. Named namespaces with the lab's id (the sandbox and every lab namespace in it).
        foreach (var name in Names(labId))
        {
            var delete = await runner.RunAsync(["ip", "netns", "delete", name], CommandPurpose.Teardown, ct);
            if (delete.Succeeded) removed.Add($"{NetnsDir}/{name}");
        }
        foreach (var mount in Platform.NsfsMounts.MountPoints().Where(m => IsLabName(labId, Path.GetFileName(m))))
        {
            var umount = await runner.RunAsync(["umount", mount], CommandPurpose.Teardown, ct);
            if (umount.Succeeded) removed.Add($"{mount} (nsfs mount)");
        }

        // 4. Look again: only what has been seen to be gone counts as gone.
        if (removed.Count > 0 || containers.Count > 0)
        {
            foreach (var runtime in lookIn)
            {
                var again = await runtime.ListLabAsync(labId, ct);
                leftovers.AddRange(again.Containers.Select(c => $"{runtime.Name} container {c.Id} is still there"));
            }
            leftovers.AddRange(links.Where(l => new FileInfo(l.Path).LinkTarget == l.Target).Select(l => $"{l.Path} still exists"));
        }
        foreach (var trace in Find(labId))
            if (!leftovers.Any(l => l.StartsWith(trace.Split(' ')[0], StringComparison.Ordinal))) leftovers.Add(trace);
        return new SweepResult(removed, leftovers.Distinct().ToList());
    }

    /// <summary>
    /// The cheap look every teardown ends with (no process is started: /var/run/netns, /proc/self/mountinfo and
    /// /proc/*/environ only): what still carries the lab's id. Each line starts with the object's path or label.
    /// </summary>
    public static IReadOnlyList<string> Find(string labId)
    {
        var traces = new List<string>();
        traces.AddRange(Names(labId).Select(n => $"{NetnsDir}/{n} still exists"));
        traces.AddRange(Platform.NsfsMounts.MountPoints().Where(m => IsLabName(labId, Path.GetFileName(m))).Select(m => $"{m} is still an nsfs mount"));
        foreach (var (pid, name, value) in Platform.Processes.WithEnvironmentNames([ProcessRuntime.LabelVariable, Model.Cni.ContainerIdVariable]))
        {
            if (name == ProcessRuntime.LabelVariable && value.StartsWith(labId + "/", StringComparison.Ordinal))
                traces.Add($"{value} still runs (container process {pid})");
            else if (name == Model.Cni.ContainerIdVariable && IsLabCniContainerId(labId, value))
                traces.Add($"{Model.Cni.ContainerIdVariable}={value} still runs (CNI plugin process {pid})");
        }
        return traces;
    }

    /// <summary>
    /// A dead run's CNI plugins (and their IPAM children) still in the middle of an ADD: kill -9 of a run does not end
    /// its children. `clean` ends them (by PID and start time) before replaying DEL, or they could build after DEL has
    /// removed and reserve after it has released; what would not end, as problems. A live run's teardown has none (it
    /// waits for its plugins), so it does not look.
    /// </summary>
    public static IEnumerable<string> EndDeadRunsPlugins(string labId) => Model.Cni.EndPlugins(id => IsLabCniContainerId(labId, id));

    /// <summary>A CNI_CONTAINERID the lab gives its attachments (<see cref="Model.Cni.ContainerId"/>: labrunner-ID-PLACE).</summary>
    private static bool IsLabCniContainerId(string labId, string containerId) => containerId.StartsWith($"labrunner-{labId}-", StringComparison.Ordinal);

    /// <summary>A sandbox name of the lab: lr-ID, lr-ID-NAME or lr-ID_wan.</summary>
    private static bool IsLabName(string labId, string name)
    {
        var prefix = $"lr-{labId}";
        return name == prefix || name.StartsWith(prefix + "-", StringComparison.Ordinal) || name.StartsWith(prefix + "_", StringComparison.Ordinal);
    }

    /// <summary>The /var/run/netns entries named for the lab.</summary>
    private static IEnumerable<string> Names(string labId) =>
        Directory.Exists(NetnsDir)
            ? Directory.EnumerateFileSystemEntries(NetnsDir).Select(Path.GetFileName).OfType<string>().Where(n => IsLabName(labId, n)).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>/var/run/netns symlinks to /proc/PID/ns/net for one of <paramref name="pids"/> (the article's `ln -s`).</summary>
    private static List<(string Path, string Target)> PidLinks(IReadOnlySet<int> pids)
    {
        if (pids.Count == 0 || !Directory.Exists(NetnsDir)) return [];
        var links = new List<(string, string)>();
        foreach (var path in Directory.EnumerateFileSystemEntries(NetnsDir))
        {
            if (new FileInfo(path).LinkTarget is not { } target) continue;
            var parts = target.Split('/', StringSplitOptions.RemoveEmptyEntries); // proc PID ns net
            if (parts is ["proc", var pid, "ns", "net"] && int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && pids.Contains(p))
                links.Add((path, target));
        }
        return links;
    }
}
