using System.Collections.Immutable;
using System.Diagnostics;
using LabRunner.Runtimes;

namespace LabRunner.Platform;

/// <summary>
/// What a lab could leave on a machine, as sets of comparable lines: namespaces in /var/run/netns, nsfs mounts,
/// links of the caller's namespace (and of extra named namespaces), run journals, and labelled container processes.
/// Two snapshots taken around a run must be equal; <see cref="Diff"/> names each difference.
/// </summary>
public sealed record HostSnapshot(ImmutableSortedDictionary<string, ImmutableSortedSet<string>> Facets)
{
    /// <param name="ignoreLiveLabs">
    /// Leave out what belongs to labs still running (their owner process is alive): another lab running
    /// beside a test is not that test's leak. Anything of a finished or dead lab is always counted.
    /// </param>
    public static HostSnapshot Take(string stateRoot = Journal.LabJournal.DefaultRoot, bool ignoreLiveLabs = true, params string[] alsoNamespaces)
    {
        var live = ignoreLiveLabs ? LiveLabIds(stateRoot) : [];
        var containers = Processes.WithEnvironmentName(ProcessRuntime.LabelVariable);
        bool Live(string labelOrName) => live.Any(id => labelOrName == id || labelOrName.StartsWith(id + "/", StringComparison.Ordinal) || labelOrName.Contains($"lr-{id}", StringComparison.Ordinal));
        bool LivePid(string name) => containers.Any(c => c.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture) == name && Live(c.Value));
        ImmutableSortedSet<string> Keep(IEnumerable<string> entries) => [.. entries.Where(e => !Live(e) && !LivePid(e))];

        var facets = ImmutableSortedDictionary.CreateBuilder<string, ImmutableSortedSet<string>>();
        facets["/var/run/netns entries"] = Keep(Listing("/var/run/netns"));
        facets["nsfs mounts"] = Keep(File.ReadLines("/proc/self/mountinfo").Where(l => l.Contains(" - nsfs ")).Select(l => l.Split(' ')[4]));
        facets["links (this namespace)"] = Links([]);
        foreach (var ns in alsoNamespaces) facets[$"links (netns {ns})"] = Links(["-n", ns]);
        facets["run journals"] = Keep(Listing(stateRoot));
        facets["labelled container processes"] = [.. containers.Where(c => !Live(c.Value)).Select(c => $"PID {c.Pid} {c.Value}")];
        if (File.Exists(ContainerdRuntime.Socket))
        {
            facets["containerd containers"] = Keep(Lines("ctr", "-n", "default", "containers", "ls", "-q"));
            facets["containerd tasks"] = Keep(Lines("ctr", "-n", "default", "tasks", "ls", "-q"));
        }
        if (File.Exists(DockerRuntime.Socket))
            facets["docker containers"] = Keep(Lines("docker", "ps", "-a", "--format", "{{.Names}}"));
        return new HostSnapshot(facets.ToImmutable());
    }

    private static IReadOnlyList<string> LiveLabIds(string stateRoot)
    {
        if (!Directory.Exists(stateRoot)) return [];
        var ids = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(stateRoot))
        {
            try
            {
                var header = Journal.LabJournal.Read(dir).Header;
                if (Processes.IsRunning(header.OwnerPid, header.OwnerStartTime)) ids.Add(header.LabId);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                // being created or removed right now
            }
        }
        return ids;
    }

    /// <summary>Each difference as "facet: +added" or "facet: -removed"; empty when equal.</summary>
    public IReadOnlyList<string> Diff(HostSnapshot after)
    {
        var differences = new List<string>();
        foreach (var (facet, before) in Facets)
        {
            var now = after.Facets.GetValueOrDefault(facet, []);
            differences.AddRange(now.Except(before).Select(x => $"{facet}: +{x}"));
            differences.AddRange(before.Except(now).Select(x => $"{facet}: -{x}"));
        }
        return differences;
    }

    private static ImmutableSortedSet<string> Listing(string directory) =>
        Directory.Exists(directory) ? [.. Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).OfType<string>()] : [];

    /// <summary>Link names (ifindex left out: it is not state that matters).</summary>
    private static ImmutableSortedSet<string> Links(string[] netns) =>
        [.. Lines(["ip", .. netns, "-o", "link", "show"]).Select(l => l.Split(": ")[1].Split('@')[0])];

    /// <summary>The output lines of a command; a command that cannot run shows as one line saying so, never as "nothing".</summary>
    private static IEnumerable<string> Lines(params string[] argv)
    {
        try
        {
            var info = new ProcessStartInfo(argv[0], argv[1..]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0
                ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [$"`{string.Join(' ', argv)}` failed with exit {process.ExitCode}"];
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return [$"`{argv[0]}` cannot run: {e.Message}"];
        }
    }
}
