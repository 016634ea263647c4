using System.Collections.Immutable;
using LabRunner.Execution;
using LabRunner.Testing;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// How two host snapshots are compared (taking a real one needs root: see the integration tests), and how one is taken:
/// every command through the runner it is given.
/// </summary>
public sealed class HostSnapshotSpecs
{
    private static HostSnapshot Snapshot(params (string Facet, string Entry, string? Owner)[] entries) =>
        new(entries.GroupBy(e => e.Facet).ToImmutableSortedDictionary(g => g.Key, g => g.Select(e => e.Entry).ToImmutableSortedSet(StringComparer.Ordinal)))
        {
            Owners = entries.Where(e => e.Owner is not null).ToImmutableDictionary(e => e.Facet + "\0" + e.Entry, e => e.Owner!),
        };

    [Fact]
    public void A_diff_names_each_added_and_removed_entry_with_its_facet()
    {
        var before = Snapshot(("links (this namespace)", "lo kind=loopback master=- up", null), ("sysctls (this namespace)", "net.ipv4.ip_forward = 0", null));
        var after = Snapshot(("links (this namespace)", "lo kind=loopback master=- up", null), ("links (this namespace)", "veth-1 kind=veth master=- down", null),
            ("sysctls (this namespace)", "net.ipv4.ip_forward = 1", null));

        Assert.Equal(
            ["links (this namespace): +veth-1 kind=veth master=- down", "sysctls (this namespace): +net.ipv4.ip_forward = 1", "sysctls (this namespace): -net.ipv4.ip_forward = 0"],
            before.Diff(after));
        Assert.Empty(after.Diff(after));
    }

    [Fact]
    public void With_only_labs_entries_of_other_labs_are_left_out_but_unowned_ones_and_our_own_count()
    {
        var before = Snapshot();
        var after = Snapshot(
            ("/var/run/netns entries", "lr-aaaaaa net:[1]", "aaaaaa"),
            ("/var/run/netns entries", "lr-bbbbbb net:[2]", "bbbbbb"),
            ("/var/run/netns entries", "lrt-test net:[3]", HostSnapshot.NotALab),
            ("/var/run/netns entries", "4242 -> /proc/4242/ns/net (dangling)", null));

        var diff = before.Diff(after, new HashSet<string> { "aaaaaa" });

        Assert.Equal(["/var/run/netns entries: +4242 -> /proc/4242/ns/net (dangling)", "/var/run/netns entries: +lr-aaaaaa net:[1]"], diff.Order(StringComparer.Ordinal));
        Assert.Equal(4, before.Diff(after).Count); // without onlyLabs everything counts
    }

    [Fact]
    public void A_facet_missing_on_one_side_counts_as_empty() =>
        Assert.Equal(["docker containers: +lr-aaaaaa-busybox-1 (lab aaaaaa)"],
            Snapshot().Diff(Snapshot(("docker containers", "lr-aaaaaa-busybox-1 (lab aaaaaa)", "aaaaaa"))));

    /// <summary>
    /// A snapshot with a runner that runs nothing: it only reads /proc, /var/run/netns and the state roots, and every
    /// command it would run (ip, sysctl, iptables-save, and ctr or docker where their sockets exist) is recorded.
    /// </summary>
    [Fact]
    public async Task Every_command_of_a_snapshot_goes_through_its_runner_as_a_check_reaching_other_namespaces_as_the_engine_does()
    {
        using var root = new TempDirectory();
        var runner = new RecordingRunner(argv => argv switch
        {
            ["ip", "-j", "-d", "link", "show"] => RecordingRunner.Ok("""[{"ifname":"lo","link_type":"loopback","flags":["LOOPBACK","UP"]}]""" + "\n"),
            ["iptables-save", "-t", "nat"] => RecordingRunner.Failed(1, "iptables-save: no nat table here\n"),
            ["ip", "-n", "lrt-unit", "-4", "-j", "route", "show", "table", "all"] => RecordingRunner.Ok("not json"),
            _ => RecordingRunner.Ok(),
        });

        var snapshot = await HostSnapshot.TakeAsync(
            new SnapshotOptions { Runner = runner, StateRoots = [root.Path], AlsoNamespaces = ["lrt-unit"], Sysctls = ["net.ipv4.conf.all.forwarding"] },
            TestContext.Current.CancellationToken);

        Assert.All(runner.Commands, c => Assert.Equal(CommandPurpose.Check, c.Purpose));
        Assert.Superset(new HashSet<string>
        {
            "ip -j -d link show", "ip -j addr show", "ip -4 -j route show table all", "ip -6 -j route show table all",
            "iptables-save -t filter", "iptables-save -t nat",
            "ip -n lrt-unit -j -d link show", "ip -n lrt-unit -j addr show", "ip -n lrt-unit -4 -j route show table all",
            "ip netns exec lrt-unit sysctl -e net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables " +
            "net.bridge.bridge-nf-call-arptables net.ipv4.conf.all.forwarding",
            "ip netns exec lrt-unit iptables-save -t filter", "ip netns exec lrt-unit iptables-save -t nat",
        }, runner.Displays.ToHashSet());
        // The caller's own sysctls are read from /proc/sys, with no command.
        Assert.DoesNotContain(runner.Displays, d => d.StartsWith("sysctl", StringComparison.Ordinal));
        Assert.Equal(["lo kind=loopback master=- up"], snapshot.Facets["links (this namespace)"]);
        // What a command that fails, or prints no JSON, said is an entry: never "nothing".
        Assert.Equal(["`iptables-save -t nat` failed with exit 1: iptables-save: no nat table here"], snapshot.Facets["iptables nat (this namespace)"]);
        Assert.StartsWith("`ip -n lrt-unit -4 -j route show table all` printed no JSON: ", Assert.Single(snapshot.Facets["routes (netns lrt-unit)"]));
    }

    [Fact]
    public void A_snapshot_runs_its_commands_for_real_unless_told_otherwise() =>
        Assert.IsType<CliWrapCommandRunner>(new SnapshotOptions().Runner);
}
