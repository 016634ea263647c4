using System.Collections.Immutable;
using LabRunner.Testing;

namespace LabRunner.Tests.Unit;

/// <summary>How two host snapshots are compared (taking them needs root: see the integration tests).</summary>
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
}
