using System.Globalization;
using System.Text.RegularExpressions;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Platform;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The netlink driver's in-process ping (<see cref="LabRunner.Platform.Netlink.IcmpPing"/>) against busybox's own, the
/// same argv in the same private namespaces (<see cref="PrivateNetns"/>, entered by their thread's id): an answered
/// ping, a big one, one through a router (TTL 63), one nobody answers, one without a route, one into a namespace that
/// is gone. The verdict, the exit code, the summary and the error text must be the same; only times may differ.
/// </summary>
public sealed partial class IcmpPingKernelSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_in_process_ping_prints_and_exits_as_busybox_ping_does()
    {
        Assert.SkipUnless(Processes.IsRoot && PrivateNetns.CanCreate, "needs root (unshare(CLONE_NEWNET) for a private network namespace)");
        using var a = PrivateNetns.Create();
        using var router = PrivateNetns.Create();
        using var b = PrivateNetns.Create();
        var process = new CliWrapCommandRunner();
        var events = new List<CommandEvent>();
        var inProcess = new NetlinkCommandRunner(process, events.Add);
        string Tid(PrivateNetns ns) => ns.Tid.ToString(CultureInfo.InvariantCulture);
        async Task Ip(PrivateNetns ns, string command)
        {
            var r = await process.RunAsync(["nsenter", "-t", Tid(ns), "-n", "ip", .. command.Split(' ')], CommandPurpose.Action, Ct);
            Assert.True(r.Succeeded, $"ip {command}: {r.Error}");
        }
        // a (10.71.0.2) — router (10.71.0.1, 10.72.0.1, forwarding) — b (10.72.0.2)
        await Ip(a, $"link add name ra type veth peer name ar netns {Tid(router)}");
        await Ip(b, $"link add name rb type veth peer name br netns {Tid(router)}");
        foreach (var (ns, link, address) in new[] { (a, "ra", "10.71.0.2/24"), (router, "ar", "10.71.0.1/24"), (router, "br", "10.72.0.1/24"), (b, "rb", "10.72.0.2/24") })
        {
            await Ip(ns, $"addr add {address} dev {link}");
            await Ip(ns, $"link set dev {link} up");
            await Ip(ns, "link set dev lo up");
        }
        await Ip(a, "route add 10.72.0.0/24 via 10.71.0.1");
        await Ip(b, "route add 10.71.0.0/24 via 10.72.0.1");
        var forward = await process.RunAsync(["nsenter", "-t", Tid(router), "-n", "sysctl", "-qw", "net.ipv4.ip_forward=1"], CommandPurpose.Action, Ct);
        Assert.True(forward.Succeeded, forward.Error);

        (string From, string[] Ping, string Shows)[] cases =
        [
            (Tid(a), ["-c", "2", "-W", "1", "10.71.0.1"], "answered"),
            (Tid(a), ["-c", "2", "-s", "1000", "-W", "1", "10.71.0.1"], "1008 bytes"),
            (Tid(a), ["-c", "3", "-i", "0.2", "-W", "1", "10.72.0.2"], "through the router: ttl=63"),
            (Tid(a), ["-c", "2", "-W", "1", "10.71.0.9"], "nobody answers"),
            (Tid(a), ["-c", "2", "-W", "1", "10.99.0.1"], "no route"),
            (int.MaxValue.ToString(CultureInfo.InvariantCulture), ["-c", "1", "-W", "1", "10.71.0.1"], "a namespace that is gone"),
        ];
        foreach (var (from, ping, shows) in cases)
        {
            string[] argv = ["nsenter", "-t", from, "-n", "-u", "--", "busybox", "ping", .. ping];
            var busybox = await process.RunAsync(argv, CommandPurpose.Check, Ct);
            var ours = await inProcess.RunAsync(argv, CommandPurpose.Check, Ct);

            Assert.True(busybox.ExitCode == ours.ExitCode, $"{shows}: busybox exit {busybox.ExitCode}, in-process {ours.ExitCode}\n{busybox}\n{ours}");
            Assert.Equal(WithoutTimes(busybox.Stdout), WithoutTimes(ours.Stdout));
            Assert.Equal(busybox.Stderr, ours.Stderr);
            Assert.Equal(NetlinkCommandRunner.DriverName, events[^1].Driver); // run in-process, not handed to busybox
        }
        Assert.Contains("ttl=63", (await inProcess.RunAsync(["nsenter", "-t", Tid(a), "-n", "-u", "--", "busybox", "ping", "-c", "1", "-W", "1", "10.72.0.2"], CommandPurpose.Check, Ct)).Stdout);
    }

    [Fact]
    public async Task A_ping_the_in_process_one_does_not_speak_is_busyboxs()
    {
        var events = new List<CommandEvent>();
        var runner = new NetlinkCommandRunner(new CliWrapCommandRunner(), events.Add);

        var v6 = await runner.RunAsync(["busybox", "ping", "-c", "1", "-W", "1", "::1"], CommandPurpose.Check, Ct);

        Assert.Empty(events); // handed to the inner runner, which reports nothing here
        Assert.Contains("PING ::1", v6.Stdout + v6.Stderr);
    }

    /// <summary>A ping's text with its round-trip times (which differ from run to run) blanked.</summary>
    private static string WithoutTimes(string stdout) => Times().Replace(stdout, "#");

    [GeneratedRegex(@"\d+\.\d{3}")]
    private static partial Regex Times();
}
