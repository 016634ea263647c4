using LabRunner.Execution;
using LabRunner.Journal;

namespace LabRunner.Engine;

/// <summary>
/// The order a teardown replays a journal in, so that its cost grows with the lab's size and not with its square:
/// <list type="number">
/// <item><see cref="First"/>: every record that is not settled by a removal below, newest first (sysctls, iptables
/// in the caller's namespace, links of `--host`'s host, CNI DEL, symlinks: whatever outlives the namespaces);</item>
/// <item><see cref="Containers"/>: the containers (and captures, servers), all at once per runtime;</item>
/// <item><see cref="Namespaces"/>: the lab's named namespaces (the sandbox host and uplink network included), newest first.</item>
/// </list>
/// <see cref="Settled"/> are never run: a command in a namespace that step 3 deletes (<c>ip -n lr-ID-n1 …</c>) or in a
/// container's (<c>nsenter -t PID -n …</c>), whose object the kernel removes with its namespace: links, addresses,
/// routes, neighbours, qdiscs and iptables rules are per namespace. A sysctl is never settled: some are global, and
/// restoring one is cheap. Records targeting a container's PID are settled even when its removal fails (then the
/// container is reported as left, and with it everything in it); running them then could reach a reused PID.
/// </summary>
public sealed record TeardownOrder(
    IReadOnlyList<UndoRecord> First,
    IReadOnlyList<UndoRemoveContainer> Containers,
    IReadOnlyList<UndoRecord> Namespaces,
    IReadOnlyList<UndoRecord> Settled)
{
    /// <summary>Tools whose changes live in a network namespace and die with it.</summary>
    private static readonly HashSet<string> PerNamespaceTools = new(StringComparer.Ordinal)
    {
        "ip", "tc", "bridge", "iptables", "ip6tables", "iptables-legacy", "ip6tables-legacy", "iptables-nft", "ip6tables-nft", "conntrack",
    };

    /// <summary>Splits <paramref name="newestFirst"/> (a journal's pending records) into the teardown's phases.</summary>
    public static TeardownOrder Of(IReadOnlyList<UndoRecord> newestFirst)
    {
        var namespaces = newestFirst.Where(IsNamespaceRemoval).ToList();
        var removed = namespaces.Select(u => u.Resource!.Name).ToHashSet(StringComparer.Ordinal);
        var containers = newestFirst.OfType<UndoRemoveContainer>().ToList();
        var settled = newestFirst.Where(u => u is UndoCommand c && !IsNamespaceRemoval(c) && IsSettledBy(c, removed)).ToList();
        // By reference: two records may be equal (a sysctl set twice is restored twice) and both must stay.
        var elsewhere = new HashSet<UndoRecord>([.. namespaces, .. containers, .. settled], ReferenceEqualityComparer.Instance);
        var first = newestFirst.Where(u => !elsewhere.Contains(u)).ToList();
        return new TeardownOrder(first, containers, namespaces, settled);
    }

    private static bool IsNamespaceRemoval(UndoRecord undo) =>
        undo is UndoCommand { Resource.Kind: ResourceKind.Netns, Argv: ["ip", "netns", "delete", ..] };

    private static bool IsSettledBy(UndoCommand command, HashSet<string> removedNamespaces) =>
        TargetedCommand.Of(command.Argv) is { } target && PerNamespaceTools.Contains(target.Tool)
        && (target.Pid is not null || target.Netns is { } netns && removedNamespaces.Contains(netns));
}
