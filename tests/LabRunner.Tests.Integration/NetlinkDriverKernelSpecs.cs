using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Platform;
using LabRunner.Platform.Netlink;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The netlink driver against iproute2 on the kernel: the same argv (the 01-veth-bridge lab's commands and teardown,
/// with addresses, routes, a vxlan, a link-set and refusals) run once through `ip` and once through
/// <see cref="NetlinkCommandRunner"/>, each time in a fresh pair of private namespaces (<see cref="PrivateNetns"/>:
/// anonymous, held by a thread of the test; reached as `nsenter -t TID -n ip …`), must leave the kernel in the same
/// state (`ip -j -d link/addr/route` dumps, per-instance fields left out) and end with the same exit codes and texts.
/// Every argv is checked to be of the nsenter form before it runs: nothing here touches the machine's namespaces.
/// </summary>
public sealed class NetlinkDriverKernelSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void RequireRoot()
    {
        Assert.SkipUnless(Processes.IsRoot && PrivateNetns.CanCreate, "needs root (unshare(CLONE_NEWNET) for a private network namespace)");
        Assert.SkipWhen(EnvironmentCheck.FindOnPath("ip") is null || EnvironmentCheck.FindOnPath("nsenter") is null, "needs ip and nsenter to compare with");
    }

    /// <summary>The lab's commands; "host" and "n1" are the two places, <c>{n1}</c> the netns argument of n1.</summary>
    private static readonly (string Place, string Command)[] Lab =
    [
        ("host", "link set lo up"),
        ("host", "link add name veth-1 type veth peer name veth-2"),
        ("host", "link set dev veth-2 up netns {n1}"),
        ("host", "link add name veth-3 type veth peer name veth-1"),            // step 1.4: RTNETLINK answers: File exists
        ("host", "link add name br-0 type bridge"),
        ("host", "link add name veth-3 type veth peer name veth-4"),
        ("host", "link set dev veth-1 master br-0"),
        ("host", "link set dev veth-3 master br-0"),
        ("host", "link set dev br-0 up"),
        ("host", "link set dev veth-1 up"),
        ("host", "addr add 172.16.100.1/24 dev br-0"),
        ("host", "addr add 172.16.100.1/24 dev br-0"),                          // Error: ipv4: Address already assigned.
        ("host", "addr add fd00:100::1/64 dev br-0 nodad"),
        ("n1", "addr add 172.16.100.101/24 dev veth-2"),
        ("n1", "addr add fd00:100::2/64 dev veth-2 nodad"),
        ("n1", "route add default dev veth-2"),
        ("n1", "route add default dev veth-2"),                                 // File exists
        ("n1", "-6 route add default via fd00:100::1 dev veth-2"),
        ("n1", "route add 10.9.0.0/16 via 172.16.100.1"),
        ("n1", "route add 10.8.0.0/16 via 192.0.2.1"),                          // unreachable gateway: the kernel's words
        ("host", "link set dev veth-4 mtu 1400 address 02:00:00:00:00:04 txqueuelen 500 alias spare-end"),
        ("host", "link set dev veth-4 alias "),                               // alias '': cleared
        ("host", "link add name vx0 type vxlan id 42 remote 10.0.0.2 local 172.16.100.1 dev br-0 dstport 4789"),
        ("host", "link set dev nosuch up"),                                     // Cannot find device, exit 1
        ("host", "link set dev veth-3 master nosuch"),                          // invarg, exit 255
        ("host", "link set dev veth-3 netns lr-netlink-spec-nosuch"),                     // invarg, exit 255
        ("host", "addr add 10.0.0.1/24 dev nosuch"),
        ("n1", "route del 10.7.0.0/16 dev veth-2"),                             // No such process: teardown's "already gone"
        ("gone", "link set dev veth-1 up"),                                     // nsenter: cannot open /proc/PID/ns/net
        // teardown's checks, while everything is there
        ("host", "link show dev veth-3"),
        ("host", "-o addr show dev br-0 to 172.16.100.1/24"),
        ("host", "-o addr show dev br-0 to 172.16.200.1/24"),
        ("n1", "route show default dev veth-2"),
        ("n1", "-6 route show default via fd00:100::1 dev veth-2"),
        ("n1", "route show 10.9.0.0/16 via 172.16.100.1"),
        ("dump", ""),
        // teardown, newest first, and its checks once it is gone
        ("n1", "route del 10.9.0.0/16 via 172.16.100.1"),
        ("n1", "-6 route del default via fd00:100::1 dev veth-2"),
        ("n1", "route del default dev veth-2"),
        ("host", "link delete dev vx0"),
        ("host", "link set dev veth-3 nomaster"),
        ("host", "link set dev veth-1 nomaster"),
        ("host", "addr del 172.16.100.1/24 dev br-0"),
        ("host", "addr del 172.16.100.1/24 dev br-0"),                          // Error: ipv4: Address not found.
        ("host", "link delete dev veth-3"),
        ("host", "link delete dev br-0"),
        ("n1", "link delete dev veth-2"),
        ("host", "link delete dev veth-1"),                                     // gone with its peer: Cannot find device
        ("host", "link show dev veth-3"),
        ("host", "-o addr show dev br-0 to 172.16.100.1/24"),
        ("n1", "route show default dev veth-2"),
        ("dump", ""),
    ];

    [Fact]
    public async Task The_lab_leaves_the_kernel_as_ip_does_and_every_command_ends_as_ip_ends_it()
    {
        RequireRoot();
        var iproute2 = await RunLabAsync(new CliWrapCommandRunner());
        var events = new List<CommandEvent>();
        var netlink = await RunLabAsync(new NetlinkCommandRunner(new CliWrapCommandRunner(events.Add), events.Add));

        Assert.Equal(iproute2.Outcomes.Count, netlink.Outcomes.Count);
        for (var i = 0; i < iproute2.Outcomes.Count; i++)
        {
            var (ours, theirs) = (netlink.Outcomes[i], iproute2.Outcomes[i]);
            Assert.True(theirs.Equals(ours), $"{theirs.Command}:\n  ip:      {theirs}\n  netlink: {ours}");
        }
        Assert.Equal(iproute2.Dumps, netlink.Dumps);
        Assert.Contains("\"master\":\"br-0\"", iproute2.Dumps[0]);   // the dumps hold the lab (host, then n1)
        Assert.Contains("\"local\":\"172.16.100.101\"", iproute2.Dumps[1]);
        Assert.DoesNotContain("br-0", iproute2.Dumps[2]);
        // Every lab command ran in-process: none was handed to ip.
        Assert.All(events, e => Assert.Equal(NetlinkCommandRunner.DriverName, e.Driver));
        Assert.Equal(Lab.Count(c => c.Place != "dump"), events.Count);
        Assert.Contains(iproute2.Outcomes, o => o.ExitCode == 2 && o.Stderr == "RTNETLINK answers: File exists");
        Assert.Contains(iproute2.Outcomes, o => o.ExitCode == 255);
    }

    /// <summary>The state the observations read: both ends of veths here and in n1, a bridge, a vxlan, addresses, neighbours, routes.</summary>
    private static readonly (string Place, string Command)[] Observed =
    [
        ("host", "link set lo up"),
        ("host", "link add name veth-1 type veth peer name veth-2"),
        ("host", "link set dev veth-2 up netns {n1}"),
        ("host", "link add name veth-3 type veth peer name veth-4"),            // same namespace; veth-4 stays down: M-DOWN on veth-3
        ("host", "link add name br-0 type bridge"),
        ("host", "link set dev veth-1 master br-0"),
        ("host", "link set dev veth-3 master br-0"),
        ("host", "link set dev br-0 up"),
        ("host", "link set dev veth-1 up"),
        ("host", "link set dev veth-3 up"),
        ("host", "link set dev veth-4 mtu 1400 txqueuelen 500 alias spare end"),
        ("host", "link property add dev veth-4 altname spare-alt"),
        ("host", "link add name vx0 type vxlan id 42 local 172.16.100.1 dev br-0 dstport 4789"),
        ("host", "addr add 172.16.100.1/24 dev br-0"),
        ("host", "addr add 10.1.0.1/32 dev br-0"),
        ("host", "addr add fd00:100::1/64 dev br-0 nodad"),
        ("n1", "addr add 172.16.100.101/24 dev veth-2"),
        ("n1", "addr add fd00:100::2/64 dev veth-2 nodad"),
        ("n1", "route add default dev veth-2"),
        ("n1", "route add 10.9.0.0/16 via 172.16.100.1"),
        ("n1", "route add 10.9.1.1/32 dev veth-2"),
        ("n1", "-6 route add default via fd00:100::1 dev veth-2"),
        ("n1", "neigh add 172.16.100.1 lladdr 02:00:00:00:00:01 dev veth-2 nud permanent"),
        ("n1", "neigh add 172.16.100.7 lladdr 02:00:00:00:00:07 dev veth-2 nud stale"),
        ("n1", "neigh add 172.16.100.8 lladdr 02:00:00:00:00:08 dev veth-2 nud noarp"), // hidden by ip's default
        ("n1", "neigh add fd00:100::1 lladdr 02:00:00:00:00:11 dev veth-2 nud permanent"),
    ];

    /// <summary>The observations the kinds make (ObserveContext, the link, links, bridge-ports, address, neighbor and route kinds).</summary>
    private static readonly (string Place, string Command)[] Observations =
    [
        .. new[] { "lo", "veth-1", "veth-3", "veth-4", "spare-alt", "br-0", "vx0", "nosuch" }.Select(l => ("host", $"-j -d link show dev {l}")),
        .. new[] { "lo", "veth-2", "nosuch" }.Select(l => ("n1", $"-j -d link show dev {l}")),
        ("host", "-j link show"), ("n1", "-j link show"),
        ("host", "-j link show master br-0"), ("host", "-j link show master veth-4"), ("host", "-j link show master nosuch"),
        ("host", "-j addr show dev br-0"), ("host", "-j addr show dev lo"), ("host", "-j addr show dev veth-4"), ("n1", "-j addr show dev veth-2"),
        ("host", "-j addr show dev nosuch"),
        ("n1", "-j neigh show to 172.16.100.1"), ("n1", "-j neigh show to 172.16.100.7"), ("n1", "-j neigh show to 172.16.100.8"),
        ("n1", "-j neigh show to 172.16.100.9"), ("n1", "-6 -j neigh show to fd00:100::1"),
        ("host", "-j route show"), ("n1", "-j route show"), ("host", "-6 -j route show"), ("n1", "-6 -j route show"),
        ("gone", "-j link show"),
    ];

    [Fact]
    public async Task Every_observation_prints_the_values_ip_prints_for_the_fields_LabRunner_reads()
    {
        RequireRoot();
        using var host = PrivateNetns.Create();
        using var n1 = PrivateNetns.Create();
        await AssertFreshAsync(host);
        await AssertFreshAsync(n1);
        var targets = Targets(host, n1);
        string[] Argv(string place, string command)
        {
            string[] argv = [.. targets[place].Ip(command.Replace("{n1}", targets["n1"].NetnsArgument, StringComparison.Ordinal).Split(' '))];
            Assert.True(argv is ["nsenter", "-t", _, "-n", "ip", ..], "only the private namespaces, by their thread's id");
            host.CheckTidIsInside();
            n1.CheckTidIsInside();
            return argv;
        }
        var ip = new CliWrapCommandRunner();
        foreach (var (place, command) in Observed)
        {
            var words = Argv(place, command);
            // "alias spare end": one argument with a space in it
            if (command.Contains("alias", StringComparison.Ordinal)) words = [.. words.TakeWhile(w => w != "alias"), "alias", "spare end"];
            var made = await ip.RunAsync(words, CommandPurpose.Action, Ct);
            Assert.True(made.Succeeded, $"{command}: {made.Stderr}");
        }

        var events = new List<CommandEvent>();
        var driver = new NetlinkCommandRunner(new CliWrapCommandRunner(events.Add), events.Add);
        var mDown = false;
        foreach (var (place, command) in Observations)
        {
            var argv = Argv(place, command);
            var theirs = await ip.RunAsync(argv, CommandPurpose.Check, Ct);
            var ours = await driver.RunAsync(argv, CommandPurpose.Check, Ct);
            Assert.True((theirs.ExitCode, theirs.Stderr) == (ours.ExitCode, ours.Stderr),
                $"{place}: ip {command}\n  ip:      exit {theirs.ExitCode} {theirs.Stderr}\n  netlink: exit {ours.ExitCode} {ours.Stderr}");
            if (theirs.ExitCode != 0) continue;
            var (a, b) = (JsonNode.Parse(theirs.Stdout)!.AsArray(), JsonNode.Parse(ours.Stdout)!.AsArray());
            Assert.True(a.Count == b.Count, $"{place}: ip {command}: ip printed {a.Count} items, netlink {b.Count}:\n{theirs.Stdout}\n{ours.Stdout}");
            var fields = command.Contains("neigh", StringComparison.Ordinal) ? IpJsonFields.Neighbour
                : command.Contains("route", StringComparison.Ordinal) ? IpJsonFields.Route : IpJsonFields.Link;
            for (var i = 0; i < a.Count; i++)
            {
                SameFields($"{place}: ip {command} [{i}]", a[i]!.AsObject(), b[i]!.AsObject(), fields);
                if (b[i]!["linkinfo"] is JsonObject info) SameFields($"{place}: ip {command} [{i}].linkinfo", a[i]!["linkinfo"]!.AsObject(), info, IpJsonFields.LinkInfo);
                else Assert.True(a[i]!["linkinfo"] is null || !command.Contains("-d", StringComparison.Ordinal) || a[i]!["linkinfo"]!["info_kind"] is null,
                    $"{place}: ip {command} [{i}]: ip printed linkinfo, netlink did not");
                if (a[i]!["addr_info"] is JsonArray addrs)
                {
                    var mine = b[i]!["addr_info"]!.AsArray();
                    Assert.Equal(addrs.Count, mine.Count);
                    for (var j = 0; j < addrs.Count; j++) SameFields($"{place}: ip {command} [{i}].addr_info[{j}]", addrs[j]!.AsObject(), mine[j]!.AsObject(), IpJsonFields.Address);
                }
                mDown |= b[i]!["flags"]?.ToJsonString().Contains("M-DOWN", StringComparison.Ordinal) == true;
            }
        }
        Assert.True(mDown, "the state holds a veth whose same-namespace peer is down");
        Assert.Equal(Observations.Length, events.Count(e => e.Driver == NetlinkCommandRunner.DriverName));
    }

    [Fact]
    public async Task Kill_and_netns_delete_end_as_kill_and_ip_end_them()
    {
        RequireRoot();
        var events = new List<CommandEvent>();
        var real = new CliWrapCommandRunner();
        var driver = new NetlinkCommandRunner(new CliWrapCommandRunner(events.Add), events.Add);
        const string Missing = "2147483640";
        // kill: processes of this test's own; each side kills its own pair and a PID no process has.
        var sleepers = Enumerable.Range(0, 4).Select(_ => Process.Start("sleep", "300")).ToList();
        try
        {
            var theirs = await real.RunAsync(["kill", "-KILL", $"{sleepers[0].Id}", $"{sleepers[1].Id}", Missing], CommandPurpose.Teardown, Ct);
            var ours = await driver.RunAsync(["kill", "-KILL", $"{sleepers[2].Id}", $"{sleepers[3].Id}", Missing], CommandPurpose.Teardown, Ct);
            Assert.Equal((1, $"kill: ({Missing}): No such process\n"), (theirs.ExitCode, theirs.Stderr));
            Assert.Equal((theirs.ExitCode, theirs.Stdout, theirs.Stderr), (ours.ExitCode, ours.Stdout, ours.Stderr));
            foreach (var p in sleepers) Assert.True(p.WaitForExit(5000), $"sleep {p.Id} was not killed");
        }
        finally
        {
            foreach (var p in sleepers.Where(p => !p.HasExited)) p.Kill();
        }
        // ip netns delete: a named namespace of this test's own; deleted, then deleted again (ip's words, from ip).
        var name = $"lr-hostcmd-{Environment.ProcessId}";
        Assert.True((await real.RunAsync(["ip", "netns", "add", name], CommandPurpose.Action, Ct)).Succeeded);
        try
        {
            var deleted = await driver.RunAsync(["ip", "netns", "delete", name], CommandPurpose.Teardown, Ct);
            Assert.Equal((0, ""), (deleted.ExitCode, deleted.Stderr));
            Assert.False(File.Exists($"/var/run/netns/{name}"));
            var again = await driver.RunAsync(["ip", "netns", "delete", name], CommandPurpose.Teardown, Ct);
            var theirs = await real.RunAsync(["ip", "netns", "delete", name], CommandPurpose.Teardown, Ct);
            Assert.Equal((theirs.ExitCode, theirs.Stderr), (again.ExitCode, again.Stderr));
            Assert.Contains("No such file or directory", again.Stderr);
        }
        finally
        {
            if (File.Exists($"/var/run/netns/{name}")) await real.RunAsync(["ip", "netns", "delete", name], CommandPurpose.Teardown, Ct);
        }
        // In-process: both kills and the first delete; the second delete ran ip (the inner runner's event has no driver).
        Assert.Equal([NetlinkCommandRunner.DriverName, NetlinkCommandRunner.DriverName, null], events.Select(e => e.Driver));
    }

    /// <summary>Each field the driver prints equals ip's (missing and null alike), and it prints no field outside <paramref name="fields"/>.</summary>
    private static void SameFields(string what, JsonObject theirs, JsonObject ours, string[] fields)
    {
        foreach (var (key, _) in ours)
            Assert.True(fields.Contains(key) || key is "linkinfo" or "addr_info", $"{what}: netlink printed {key}, which is not among the fields it answers for");
        foreach (var field in fields)
            Assert.True((theirs[field]?.ToJsonString() ?? "null") == (ours[field]?.ToJsonString() ?? "null"),
                $"{what}: {field}: ip {theirs[field]?.ToJsonString() ?? "(none)"}, netlink {ours[field]?.ToJsonString() ?? "(none)"}");
    }

    /// <summary>What a command ended with, as compared: exit code, stderr, and for a show whether it printed anything.</summary>
    private sealed record Outcome(string Command, int ExitCode, string Stderr, string Stdout);

    private sealed record LabRun(List<Outcome> Outcomes, List<string> Dumps);

    private static async Task<LabRun> RunLabAsync(ICommandRunner runner)
    {
        using var host = PrivateNetns.Create();
        using var n1 = PrivateNetns.Create();
        await AssertFreshAsync(host);
        await AssertFreshAsync(n1);
        var targets = Targets(host, n1);
        var run = new LabRun([], []);
        foreach (var (place, command) in Lab)
        {
            if (place == "dump")
            {
                foreach (var ns in new[] { host, n1 }) run.Dumps.Add(Dump(ns));
                continue;
            }
            var words = command.Replace("{n1}", targets["n1"].NetnsArgument, StringComparison.Ordinal).Split(' ');
            var argv = targets[place].Ip(words);
            Assert.True(argv is ["nsenter", "-t", _, "-n", "ip", ..], "only the private namespaces, by their thread's id");
            host.CheckTidIsInside();
            n1.CheckTidIsInside();
            var outcome = await runner.RunAsync(argv, CommandPurpose.Action, Ct);
            var shows = command.Contains(" show ", StringComparison.Ordinal) || command.StartsWith("-o", StringComparison.Ordinal);
            // A show's text is ip's own format on one side: compare whether it printed something, as teardown reads it.
            var stdout = shows ? (outcome.Stdout.Trim().Length > 0 ? "(printed)" : "") : outcome.Stdout;
            run.Outcomes.Add(new Outcome(command, outcome.ExitCode, outcome.Stderr.TrimEnd('\n'), stdout));
        }
        return run;
    }

    /// <summary>The places of both specs, each reached as `nsenter -t TID -n ip`; "gone" a PID no process has.</summary>
    private static Dictionary<string, NetTarget> Targets(PrivateNetns host, PrivateNetns n1) => new()
    {
        ["host"] = new PidTarget("host", host.Tid.ToString(CultureInfo.InvariantCulture)),
        ["n1"] = new PidTarget("n1", n1.Tid.ToString(CultureInfo.InvariantCulture)),
        ["gone"] = new PidTarget("gone", int.MaxValue.ToString(CultureInfo.InvariantCulture)),
    };

    private static async Task AssertFreshAsync(PrivateNetns ns)
    {
        using var socket = NetlinkSocket.OpenIn(ns.Path, "private");
        Assert.Equal(["lo"], (await socket.LinksAsync(Ct)).Select(l => l.Name));
    }

    /// <summary>The namespace's <see cref="IpDumps"/>, one line each.</summary>
    private static string Dump(PrivateNetns ns)
    {
        var parts = new List<string>();
        foreach (var args in IpDumps.Commands)
        {
            var (code, output, error) = ns.Ip(args);
            Assert.True(code == 0, error);
            parts.Add(IpDumps.Normalised(output));
        }
        return string.Join('\n', parts);
    }

    /// <summary>
    /// The figures of docs/PERFORMANCE.md's "netlink driver": N × (veth add, set up, addr add) through ip and through
    /// the driver, and the cost of a socket in another namespace. A measurement, not a test: explicit only (`--explicit
    /// on`), with LABRUNNER_BENCH_OUT=FILE (it writes there); the suite never runs it.
    /// </summary>
    [Fact(Explicit = true)]
    public async Task Bench_veth_up_and_address_through_ip_and_through_the_driver()
    {
        RequireRoot();
        var outFile = Environment.GetEnvironmentVariable("LABRUNNER_BENCH_OUT");
        Assert.SkipWhen(string.IsNullOrEmpty(outFile), "a measurement: set LABRUNNER_BENCH_OUT=FILE");
        const int n = 200;
        async Task<TimeSpan> Time(ICommandRunner runner)
        {
            using var ns = PrivateNetns.Create();
            await AssertFreshAsync(ns);
            var t = new PidTarget("bench", ns.Tid.ToString(CultureInfo.InvariantCulture));
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < n; i++)
            {
                var (a, b) = ($"va{i}", $"vb{i}");
                foreach (var argv in new[] { t.Ip("link", "add", "name", a, "type", "veth", "peer", "name", b), t.Ip("link", "set", "dev", a, "up"), t.Ip("addr", "add", $"10.{i / 250}.{i % 250}.1/24", "dev", a) })
                    Assert.Equal(0, (await runner.RunAsync(argv, CommandPurpose.Action, Ct)).ExitCode);
            }
            return watch.Elapsed;
        }
        var ip = await Time(new CliWrapCommandRunner());
        var netlink = await Time(new NetlinkCommandRunner(new CliWrapCommandRunner()));
        TimeSpan open;
        using (var ns = PrivateNetns.Create())
        {
            var where = new ProcessNamespace(ns.Tid);
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < 1000; i++) SocketChannel.Open(where).Dispose();
            open = watch.Elapsed / 1000;
        }
        var load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        var c = CultureInfo.InvariantCulture;
        await File.WriteAllTextAsync(outFile!, string.Create(c,
            $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load {load}, {Environment.ProcessorCount} cores: {n} x (veth add, set up, addr add): " +
            $"ip {ip.TotalSeconds:0.00} s ({ip.TotalMilliseconds / (3 * n):0.00} ms a command), netlink {netlink.TotalSeconds:0.00} s " +
            $"({netlink.TotalMilliseconds / (3 * n):0.00} ms a command); a socket opened in another namespace and closed: {open.TotalMilliseconds:0.000} ms\n"), Ct);
    }
}
