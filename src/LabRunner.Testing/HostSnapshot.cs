using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Platform;
using LabRunner.Runtimes;

using static LabRunner.Execution.IpJson;

namespace LabRunner.Testing;

/// <summary>What to look at besides the machine-wide facets.</summary>
public sealed record SnapshotOptions
{
    /// <summary>Journal directories to read (live labs, run journals). The default root is always read too.</summary>
    public IReadOnlyList<string> StateRoots { get; init; } = [];

    /// <summary>
    /// Leave out what belongs to labs still running (their owner process is alive): another lab running
    /// beside a test is not that test's leak. Anything of a finished or dead lab is always counted.
    /// </summary>
    public bool IgnoreLiveLabs { get; init; } = true;

    /// <summary>Named namespaces whose links, addresses, routes, sysctls and iptables are compared too (e.g. a --host lab's host).</summary>
    public IReadOnlyList<string> AlsoNamespaces { get; init; } = [];

    /// <summary>Sysctls to compare besides <see cref="HostSnapshot.DefaultSysctls"/> (e.g. every key a scenario sets).</summary>
    public IReadOnlyList<string> Sysctls { get; init; } = [];

    /// <summary>
    /// Runs the snapshot's commands (iproute2, sysctl and iptables-save in other namespaces, ctr, docker), each a
    /// read-only <see cref="CommandPurpose.Check"/> with the runner's time limit. A real one by default; a test can
    /// give one that records or answers.
    /// </summary>
    public ICommandRunner Runner { get; init; } = new CliWrapCommandRunner();
}

/// <summary>
/// What a lab could leave on a machine, as sets of comparable lines, one set per facet: named namespaces with their
/// inode, nsfs mounts, the links (with kind, master and admin state), addresses, routes, sysctls and iptables
/// (filter, nat) of the caller's namespace and of extra named ones, run journals, labelled container processes, and
/// the containerd and Docker containers carrying the lab label. Two snapshots taken around a run must be equal;
/// <see cref="Diff"/> names each difference. Used by tests and the reliability tool; teardown's own check is
/// <see cref="LabRunner.Engine.LabTraces"/>.
/// </summary>
public sealed partial record HostSnapshot(ImmutableSortedDictionary<string, ImmutableSortedSet<string>> Facets)
{
    /// <summary>Sysctls of the caller's namespace a lab may touch (the article's br_netfilter toggle, forwarding).</summary>
    public static readonly IReadOnlyList<string> DefaultSysctls =
    [
        "net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables",
        "net.bridge.bridge-nf-call-arptables",
    ];

    /// <summary>
    /// The owner of /var/run/netns entries and nsfs mounts that no lab made: their names are neither a sandbox's
    /// (lr-ID...) nor a container's PID, and no journal names them. Diff with onlyLabs leaves them out.
    /// </summary>
    public const string NotALab = "-";

    /// <summary>"facet\0entry" -> the lab id the entry belongs to, when it can be told (name, label, journal, cgroup).</summary>
    public ImmutableDictionary<string, string> Owners { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>Takes a snapshot (<see cref="TakeAsync"/>) and waits for it: for tests and tools written synchronously.</summary>
    public static HostSnapshot Take(SnapshotOptions? options = null) => Task.Run(() => TakeAsync(options)).GetAwaiter().GetResult();

    /// <summary>The machine now, as <paramref name="options"/> (by default: the caller's namespace, the default state root) say.</summary>
    public static async Task<HostSnapshot> TakeAsync(SnapshotOptions? options = null, CancellationToken ct = default)
    {
        options ??= new SnapshotOptions();
        var probe = new Probe(options.Runner, ct);
        // Journals of the roots asked for are compared; those of other running labrunners only tell live labs and owners.
        var roots = options.StateRoots.Append(LabJournal.DefaultRoot).Select(Path.GetFullPath).Distinct().ToList();
        List<JournalInfo> AllJournals() =>
            [.. roots.Concat(RunningStateRoots().Select(Path.GetFullPath).Distinct().Except(roots)).SelectMany(ReadJournals)];
        var journalsBefore = AllJournals();
        var processes = Processes.WithEnvironmentName(ProcessRuntime.LabelVariable);
        // Docker makes a container's netns mount when it starts and removes it when it stops: list the containers
        // before and after reading the mounts, so that a container starting or stopping meanwhile still owns its mount.
        var docker = File.Exists(DockerRuntime.Socket) ? await probe.DockerContainersAsync() : null;
        var mounts = NsfsMounts.List();
        if (docker is not null) docker = [.. (await probe.DockerContainersAsync()).Concat(docker).DistinctBy(d => d.Id)]; // the later listing knows a new container's sandbox

        // Facets are gathered at once (each is a command or two); who owns an entry is told afterwards, from journals
        // read before *and after* the gathering: a lab that starts meanwhile (journal, then its first namespace) has
        // entries in the listings but no journal in the first read, and must still count as live.
        var sysctls = DefaultSysctls.Concat(options.Sysctls).Distinct().ToList();
        var gathering = new List<(string Facet, Task<List<Gathered>> Entries)>();
        void Gather(string facet, Func<Task<IEnumerable<Gathered>>> entries) => gathering.Add((facet, Task.Run(async () => (await entries()).ToList(), ct)));
        static IEnumerable<Gathered> Unowned(IEnumerable<string> entries) => entries.Select(e => new Gathered(e, _ => null));

        Gather("/var/run/netns entries", () => Task.FromResult(NamedNamespaces().Select(n => new Gathered($"{n.Name} {n.Inode}", a => a.OwnerOfNetnsEntryAsync(n.Name)))));
        Gather("nsfs mounts", () => Task.FromResult(mounts.Select(m => new Gathered($"{m.MountPoint} {m.Root}", a => a.OwnerOfMountAsync(m.MountPoint)))));
        foreach (var (label, netns) in options.AlsoNamespaces.Select(n => ($"netns {n}", (string?)n)).Prepend(("this namespace", null)))
        {
            Gather($"links ({label})", async () => (await probe.LinksAsync(netns)).Select(l => new Gathered(l.Entry, a => a.OwnerOfLink(l.Name, netns))));
            Gather($"addresses ({label})", async () => (await probe.AddressesAsync(netns)).Select(x => new Gathered(x.Entry, a => a.OwnerOfLink(x.Dev, netns))));
            Gather($"routes ({label})", async () => (await probe.RoutesAsync(netns)).Select(r => new Gathered(r.Entry, a => r.Dev is null ? null : a.OwnerOfLink(r.Dev, netns))));
            Gather($"sysctls ({label})", async () => Unowned(await probe.SysctlsAsync(netns, sysctls)));
            foreach (var table in new[] { "filter", "nat" })
                Gather($"iptables {table} ({label})", async () => Unowned(await probe.IptablesAsync(netns, table)));
        }
        Gather("run journals", () => Task.FromResult(journalsBefore.Where(j => roots.Contains(j.Root)).Select(j => new Gathered(Path.Combine(j.Root, j.LabId), _ => j.LabId))));
        Gather("labelled container processes", () => Task.FromResult(processes.Select(p => new Gathered($"PID {p.Pid} {p.Value}", _ => LabOfLabel(p.Value)))));
        if (File.Exists(ContainerdRuntime.Socket))
        {
            var labelled = probe.LinesAsync(["ctr", "-n", "default", "containers", "ls", "-q", $"labels.\"{ContainerdRuntime.LabLabel}\""]);
            var tasks = probe.LinesAsync(["ctr", "-n", "default", "tasks", "ls", "-q"]);
            Gather("containerd containers", async () => (await labelled).Select(c => new Gathered(c, a => a.OwnerOfName(c))));
            Gather("containerd tasks", async () =>
            {
                var containers = (await labelled).ToHashSet();
                return (await tasks).Where(t => containers.Contains(t) || t.StartsWith('`')).Select(t => new Gathered(t, a => a.OwnerOfName(t)));
            });
        }
        if (docker is not null)
            Gather("docker containers", () => Task.FromResult(docker.Select(d => new Gathered($"{d.Name} (lab {d.Lab})", _ => d.Lab))));
        await Task.WhenAll(gathering.Select(g => g.Entries));

        var journals = journalsBefore.Concat(AllJournals()).ToList();
        var live = options.IgnoreLiveLabs ? journals.Where(j => j.Live).Select(j => j.LabId).ToHashSet() : [];
        // A process-runtime container is the child of the process running its lab (an engine inside a test host too,
        // whose state root no command line shows); once that process dies it is re-parented to PID 1.
        if (options.IgnoreLiveLabs)
            foreach (var (pid, label) in processes)
                if (LabOfLabel(label) is { } lab && Processes.ParentOf(pid) is > 1 and var parent && Processes.IsRunning(parent)
                    && !journals.Any(j => j.LabId == lab && !j.Live))
                    live.Add(lab);
        var attribution = new Attribution(journals, processes, docker ?? [], probe);

        var facets = ImmutableSortedDictionary.CreateBuilder<string, ImmutableSortedSet<string>>();
        var owners = ImmutableDictionary.CreateBuilder<string, string>();
        foreach (var (facet, entries) in gathering)
        {
            var kept = ImmutableSortedSet.CreateBuilder<string>(StringComparer.Ordinal);
            foreach (var (entry, ownerOf) in entries.Result)
            {
                var owner = await ownerOf(attribution);
                if (owner is not null && live.Contains(owner)) continue;
                kept.Add(entry);
                if (owner is not null) owners[facet + "\0" + entry] = owner;
            }
            facets[facet] = kept.ToImmutable();
        }
        return new HostSnapshot(facets.ToImmutable()) { Owners = owners.ToImmutable() };
    }

    /// <summary>
    /// Each difference as "facet: +added" or "facet: -removed"; empty when equal. With <paramref name="onlyLabs"/>,
    /// entries that provably belong to another lab (by its id) are left out; entries of these labs and entries that
    /// belong to no known lab always count.
    /// </summary>
    public IReadOnlyList<string> Diff(HostSnapshot after, IReadOnlySet<string>? onlyLabs = null)
    {
        bool Counts(HostSnapshot s, string facet, string entry) =>
            onlyLabs is null || !s.Owners.TryGetValue(facet + "\0" + entry, out var owner) || onlyLabs.Contains(owner);
        var differences = new List<string>();
        foreach (var facet in Facets.Keys.Union(after.Facets.Keys))
        {
            var before = Facets.GetValueOrDefault(facet, []);
            var now = after.Facets.GetValueOrDefault(facet, []);
            differences.AddRange(now.Except(before).Where(x => Counts(after, facet, x)).Select(x => $"{facet}: +{x}"));
            differences.AddRange(before.Except(now).Where(x => Counts(this, facet, x)).Select(x => $"{facet}: -{x}"));
        }
        return differences;
    }

    // ---------- lab journals ----------

    private sealed record JournalInfo(string Root, string LabId, bool Live, IReadOnlyList<UndoRecord> Records);

    /// <summary>A facet's entry, and how to tell its lab once every journal has been read.</summary>
    private sealed record Gathered(string Entry, Func<Attribution, ValueTask<string?>> OwnerOf)
    {
        public Gathered(string entry, Func<Attribution, string?> ownerOf) : this(entry, a => ValueTask.FromResult(ownerOf(a)))
        {
        }
    }

    private static IEnumerable<JournalInfo> ReadJournals(string root)
    {
        if (!Directory.Exists(root)) yield break;
        root = Path.GetFullPath(root);
        foreach (var dir in LabJournal.Directories(root).Concat(LabJournal.TransitDirectories(root).Where(t => !Processes.IsRunning(t.Pid)).Select(t => t.Path)))
        {
            JournalInfo? info = null;
            try
            {
                using var journal = LabJournal.Read(dir);
                var h = journal.Header;
                info = new JournalInfo(root, h.LabId, Processes.IsRunning(h.OwnerPid, h.OwnerStartTime), journal.PendingNewestFirst());
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                // being created or removed right now, or not a journal: shown by name below
                info = new JournalInfo(root, Path.GetFileName(dir), false, []);
            }
            yield return info;
        }
    }

    /// <summary>--state-dir of every labrunner process running now: their labs are live even outside the default root.</summary>
    private static IEnumerable<string> RunningStateRoots()
    {
        var roots = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
            try
            {
                var args = File.ReadAllText($"{dir}/cmdline").Split('\0');
                if (!args.Any(a => a.EndsWith("labrunner.dll", StringComparison.Ordinal) || a.EndsWith("/labrunner", StringComparison.Ordinal))) continue;
                for (var i = 0; i + 1 < args.Length; i++)
                    if (args[i] == "--state-dir") roots.Add(args[i + 1]);
                foreach (var a in args.Where(a => a.StartsWith("--state-dir=", StringComparison.Ordinal))) roots.Add(a["--state-dir=".Length..]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return roots.Where(Path.IsPathRooted);
    }

    private static string? LabOfLabel(string label) => label.Contains('/') ? label[..label.IndexOf('/')] : null;

    /// <summary>Tells which lab an entry belongs to: sandbox names carry the id; otherwise journals, labels and cgroups say.</summary>
    private sealed class Attribution
    {
        private readonly Dictionary<string, string> _netns = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Name, string Netns), string> _links = [];
        private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
        private readonly Dictionary<int, string> _processLabs = [];
        private readonly IReadOnlyList<DockerContainer> _docker;
        private readonly Probe _probe;

        public Attribution(IEnumerable<JournalInfo> journals, IEnumerable<(int Pid, string Value)> processes, IReadOnlyList<DockerContainer> docker, Probe probe)
        {
            _docker = docker;
            _probe = probe;
            foreach (var j in journals)
            foreach (var record in j.Records)
            {
                switch (record)
                {
                    case { Resource: { Kind: ResourceKind.Netns } netns }: _netns[netns.Name] = j.LabId; break;
                    case { Resource: { Kind: ResourceKind.Link, Netns: { } where } link }: _links[(link.Name, where)] = j.LabId; break;
                    // A `command` action's own undo names no resource: its argv is all there is.
                    case UndoCommand { Resource: null, Argv: ["ip", "netns", "delete", var name] }: _netns[name] = j.LabId; break;
                    case UndoUnlink u: _netns[Path.GetFileName(u.Path)] = j.LabId; break;
                }
                if (record is UndoRemoveContainer c) _names[c.Id] = j.LabId;
            }
            foreach (var (pid, value) in processes)
                if (LabOfLabel(value) is { } lab) _processLabs[pid] = lab;
        }

        public string? OwnerOfName(string name) =>
            LabIdInName().Match(name) is { Success: true } m ? m.Groups[1].Value : _names.GetValueOrDefault(name);

        /// <summary>
        /// A link of a journal's lab, in the same namespace: journals name it by netns name, or (the caller's namespace,
        /// --host) by the owner's PID, which is ours when that process's network namespace is ours.
        /// </summary>
        public string? OwnerOfLink(string name, string? netns)
        {
            foreach (var ((link, where), lab) in _links)
            {
                if (link != name) continue;
                if (netns is not null ? where == netns : int.TryParse(where, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && SameNetnsAsUs(pid))
                    return lab;
            }
            return null;
        }

        private static bool SameNetnsAsUs(int pid)
        {
            try
            {
                return new FileInfo($"/proc/{pid}/ns/net").LinkTarget is { } theirs && theirs == new FileInfo("/proc/self/ns/net").LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        /// <summary>An nsfs mount: a named netns (/run/netns/NAME) or a Docker container's sandbox (/run/docker/netns/KEY).</summary>
        public async ValueTask<string?> OwnerOfMountAsync(string mountPoint) =>
            _docker.FirstOrDefault(d => d.SandboxKey is { Length: > 0 } key && Path.GetFileName(key) == Path.GetFileName(mountPoint))?.Lab
            ?? await OwnerOfNetnsEntryAsync(Path.GetFileName(mountPoint));

        /// <summary>
        /// /var/run/netns/NAME: lr-ID..., a journalled name, or a container's PID (label, cgroup, Docker id). A name no
        /// lab could have made (not lr-ID..., not a PID, in no journal: a test's own namespace, say) is <see cref="NotALab"/>.
        /// </summary>
        public async ValueTask<string?> OwnerOfNetnsEntryAsync(string name)
        {
            if (OwnerOfName(name) is { } byName) return byName;
            if (_netns.TryGetValue(name, out var journalled)) return journalled;
            if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                return name.StartsWith("lr-", StringComparison.Ordinal) ? null : NotALab;
            if (_processLabs.TryGetValue(pid, out var lab)) return lab;
            string cgroup;
            try
            {
                cgroup = File.ReadAllText($"/proc/{pid}/cgroup");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null; // gone
            }
            if (LabIdInName().Match(cgroup) is { Success: true } m) return m.Groups[1].Value;
            foreach (var d in _docker)
                if (cgroup.Contains(d.Id, StringComparison.Ordinal)) return d.Lab;
            // A containerd task (cgroup /default/NAME) of a --host lab, whose name carries no id: ask for its label.
            return ContainerdCgroup().Match(cgroup) is { Success: true } c ? await _probe.ContainerdLabelAsync(c.Groups[1].Value) : null;
        }
    }

    [GeneratedRegex(@"(?:^|[^0-9a-z])lr-([0-9a-f]{6})(?:$|[-_/ ])")]
    private static partial Regex LabIdInName();

    [GeneratedRegex(@"^0::/default/([A-Za-z0-9][A-Za-z0-9_.-]*)$", RegexOptions.Multiline)]
    private static partial Regex ContainerdCgroup();

    // ---------- facets ----------

    private sealed record NamedNetns(string Name, string Inode);

    /// <summary>/var/run/netns entries with the namespace each names (net:[inode]), from mountinfo or the symlink's target.</summary>
    private static IReadOnlyList<NamedNetns> NamedNamespaces()
    {
        const string dir = "/var/run/netns";
        if (!Directory.Exists(dir)) return [];
        var mounts = NsfsMounts.List().GroupBy(m => Path.GetFileName(m.MountPoint)).ToDictionary(g => g.Key, g => g.Last().Root);
        var found = new List<NamedNetns>();
        foreach (var path in Directory.EnumerateFileSystemEntries(dir))
        {
            var name = Path.GetFileName(path);
            string inode;
            if (new FileInfo(path).LinkTarget is { } target)
            {
                try { inode = new FileInfo(target).LinkTarget ?? "?"; }
                catch (IOException) { inode = "?"; }
                inode = inode.StartsWith("net:", StringComparison.Ordinal) ? inode : $"-> {target} (dangling)";
            }
            else inode = mounts.GetValueOrDefault(name, "(not mounted)");
            found.Add(new NamedNetns(name, inode));
        }
        return found;
    }

    /// <summary>
    /// IPv6 link-local addresses (fe80::/10) and their routes are the kernel's, made for every link that goes up, and
    /// appear only once duplicate address detection is done (a second or two later): they follow the link, which is
    /// compared itself, and are left out.
    /// </summary>
    private static bool IsLinkLocal6(string? address) => address is not null && address.StartsWith("fe80:", StringComparison.OrdinalIgnoreCase);

    private sealed record DockerContainer(string Id, string Name, string Lab, string? SandboxKey);

    /// <summary>
    /// The snapshot's commands, each through the runner (read-only checks, with its time limit), in the caller's
    /// namespace or a named one as the engine reaches it (<see cref="NetTarget"/>). A command that fails shows as an
    /// entry saying so, never as "nothing".
    /// </summary>
    private sealed class Probe(ICommandRunner runner, CancellationToken ct)
    {
        private static NetTarget In(string? netns) => netns is null ? new CallerTarget("this namespace") : new NamedNetnsTarget(netns, netns);

        /// <summary>Links by name, kind, master and admin state (ifindex, carrier and counters are not state that matters).</summary>
        public async Task<List<(string Name, string Entry)>> LinksAsync(string? netns)
        {
            var found = new List<(string, string)>();
            foreach (var link in await JsonAsync(In(netns).Ip("-j", "-d", "link", "show")))
            {
                if (link.ValueKind != JsonValueKind.Object) { found.Add((link.ToString(), link.ToString())); continue; }
                var name = Str(link, "ifname") ?? "?";
                var kind = link.TryGetProperty("linkinfo", out var info) ? Str(info, "info_kind") : null;
                var up = link.TryGetProperty("flags", out var flags) && flags.EnumerateArray().Any(f => f.GetString() == "UP");
                found.Add((name, $"{name} kind={kind ?? Str(link, "link_type")} master={Str(link, "master") ?? "-"} {(up ? "up" : "down")}"));
            }
            return found;
        }

        public async Task<List<(string Dev, string Entry)>> AddressesAsync(string? netns)
        {
            var found = new List<(string, string)>();
            foreach (var link in await JsonAsync(In(netns).Ip("-j", "addr", "show")))
            {
                if (link.ValueKind != JsonValueKind.Object) { found.Add(("", link.ToString())); continue; }
                var dev = Str(link, "ifname") ?? "?";
                if (!link.TryGetProperty("addr_info", out var addrs)) continue;
                foreach (var a in addrs.EnumerateArray())
                    if (!IsLinkLocal6(Str(a, "local")))
                        found.Add((dev, $"{dev} {Str(a, "family")} {Str(a, "local")}/{(a.TryGetProperty("prefixlen", out var p) ? p.ToString() : "?")}"));
            }
            return found;
        }

        public async Task<List<(string? Dev, string Entry)>> RoutesAsync(string? netns)
        {
            var found = new List<(string?, string)>();
            foreach (var family in new[] { "-4", "-6" })
            foreach (var r in await JsonAsync(In(netns).Ip(family, "-j", "route", "show", "table", "all")))
            {
                if (r.ValueKind != JsonValueKind.Object) { found.Add((null, r.ToString())); continue; }
                if (IsLinkLocal6(Str(r, "dst"))) continue;
                var dev = Str(r, "dev");
                string?[] parts = [Str(r, "type") ?? "unicast", Str(r, "dst"), Str(r, "gateway") is { } g ? "via " + g : null, dev is null ? null : "dev " + dev,
                    "table " + (Str(r, "table") ?? "main"), Str(r, "protocol") is { } p ? "proto " + p : null];
                found.Add((dev, string.Join(' ', parts.OfType<string>())));
            }
            return found;
        }

        public async Task<IEnumerable<string>> SysctlsAsync(string? netns, IReadOnlyList<string> keys)
        {
            if (netns is null)
            {
                var values = new List<string>();
                foreach (var key in keys)
                {
                    string value;
                    try { value = File.ReadAllText("/proc/sys/" + key.Replace('.', '/')).Trim(); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { value = "(absent)"; }
                    values.Add($"{key} = {value}");
                }
                return values;
            }
            // Another namespace: one `sysctl` inside it (-e: keys that do not exist there are skipped, not errors).
            return (await LinesAsync(In(netns).Exec(["sysctl", "-e", .. keys]))).Select(line => Regex.Replace(line, @"\s+", " "));
        }

        /// <summary>iptables-save of one table, without comments and packet counters.</summary>
        public async Task<IEnumerable<string>> IptablesAsync(string? netns, string table) =>
            (await LinesAsync(In(netns).Exec("iptables-save", "-t", table)))
                .Where(l => !l.StartsWith('#'))
                .Select(l => Regex.Replace(l, @"\[\d+:\d+\]", "").Trim());

        /// <summary>Docker containers carrying the lab label, with the netns mount Docker made for each (its sandbox key).</summary>
        public async Task<List<DockerContainer>> DockerContainersAsync()
        {
            var found = (await LinesAsync(["docker", "ps", "-a", "--no-trunc", "--filter", $"label={ContainerdRuntime.LabLabel}",
                    "--format", $"{{{{.ID}}}} {{{{.Names}}}} {{{{.Label \"{ContainerdRuntime.LabLabel}\"}}}}"]))
                .Select(l => l.Split(' '))
                .Select(f => f.Length >= 3 ? new DockerContainer(f[0], f[1], f[2], null) : new DockerContainer(f[0], string.Join(' ', f), "?", null))
                .ToList();
            var ids = found.Where(d => d.Lab != "?").Select(d => d.Id).ToArray();
            if (ids.Length == 0) return found;
            var keys = (await LinesAsync(["docker", "inspect", "--format", "{{.Id}} {{.NetworkSettings.SandboxKey}}", .. ids]))
                .Select(l => l.Split(' ')).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
            return [.. found.Select(d => d with { SandboxKey = keys.GetValueOrDefault(d.Id) })];
        }

        /// <summary>The labrunner.lab label of a containerd container, from `ctr containers info` (null if none).</summary>
        public async Task<string?> ContainerdLabelAsync(string name)
        {
            var info = string.Join('\n', await LinesAsync(["ctr", "-n", "default", "containers", "info", name]));
            try
            {
                return JsonDocument.Parse(info).RootElement.TryGetProperty("Labels", out var labels) && labels.ValueKind == JsonValueKind.Object
                    ? Str(labels, ContainerdRuntime.LabLabel)
                    : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>The elements of a command's JSON array output; a failure shows as one string element saying so.</summary>
        private async Task<List<JsonElement>> JsonAsync(IReadOnlyList<string> argv)
        {
            var text = string.Join('\n', await LinesAsync(argv));
            if (text.StartsWith('`')) return [JsonSerializer.SerializeToElement(text)];
            try
            {
                return [.. JsonDocument.Parse(text.Length == 0 ? "[]" : text).RootElement.EnumerateArray().Select(e => e.Clone())];
            }
            catch (JsonException e)
            {
                return [JsonSerializer.SerializeToElement($"`{string.Join(' ', argv)}` printed no JSON: {e.Message}")];
            }
        }

        /// <summary>The output lines of a command; one that fails (or cannot run: exit 127) is one line saying so.</summary>
        public async Task<IReadOnlyList<string>> LinesAsync(IReadOnlyList<string> argv)
        {
            var outcome = await runner.RunAsync(argv, CommandPurpose.Check, ct);
            return outcome.Succeeded
                ? outcome.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [$"`{string.Join(' ', argv)}` failed with exit {outcome.ExitCode}: {outcome.Stderr.Trim()}"];
        }
    }
}
