using System.Collections.Immutable;

namespace LabRunner.Model;

/// <summary>
/// Something a step does to the host. Every action has an undo that the engine journals before doing it.
/// <see cref="ExpectedError"/> marks an action that must fail with that text (the article's
/// "RTNETLINK answers: File exists" is a step of the lab, not an accident).
/// </summary>
public abstract record LabAction
{
    public SourceSpan Span { get; init; } = SourceSpan.None;

    /// <summary>When set, the action must fail and its error output must contain this text.</summary>
    public string? ExpectedError { get; init; }

    /// <summary>The YAML key of this action, used in messages and the reference.</summary>
    public abstract string Keyword { get; }
}

public sealed record NetnsAdd(string Name) : LabAction
{
    public override string Keyword => "netns-add";
}

public sealed record NetnsDelete(string Name) : LabAction
{
    public override string Keyword => "netns-delete";
}

/// <summary>ip link add NAME type veth peer name PEER [netns PEERIN].</summary>
public sealed record VethAdd(string Name, string Peer, Place In, Place? PeerIn) : LabAction
{
    public override string Keyword => "veth-add";
}

public sealed record BridgeAdd(string Name, Place In) : LabAction
{
    public override string Keyword => "bridge-add";
}

/// <summary>
/// ip link add NAME type vxlan id ID [remote IP] [local IP] [dev DEV] dstport PORT: a VXLAN tunnel end for
/// cross-host labs (an L2 overlay over the hosts' underlay network).
/// </summary>
public sealed record VxlanAdd(string Name, int Id, string? Remote, string? Local, string? Dev, int Port, Place In) : LabAction
{
    /// <summary>The IANA port for VXLAN (Linux's own default, 8472, is the pre-standard one).</summary>
    public const int DefaultPort = 4789;

    public override string Keyword => "vxlan-add";
}

public sealed record LinkSetState(string Name, Place In, bool Up) : LabAction
{
    public override string Keyword => Up ? "link-up" : "link-down";
}

/// <summary>ip link set NAME [up] netns TARGET; a container target is reached by its PID, as the article does.</summary>
public sealed record LinkMove(string Name, Place From, Place To, bool Up) : LabAction
{
    public override string Keyword => "link-move";
}

public sealed record LinkDelete(string Name, Place In) : LabAction
{
    public override string Keyword => "link-delete";
}

/// <summary>brctl addif BRIDGE LINK (ip link set LINK master BRIDGE).</summary>
public sealed record BridgeAttach(string Bridge, string Link, Place In) : LabAction
{
    public override string Keyword => "bridge-attach";
}

public sealed record BridgeDetach(string Bridge, string Link, Place In) : LabAction
{
    public override string Keyword => "bridge-detach";
}

public sealed record AddressAdd(string Device, string Cidr, Place In) : LabAction
{
    public override string Keyword => "address-add";
}

/// <summary>ip route add DESTINATION [via GATEWAY] [dev DEVICE]; DESTINATION may be "default".</summary>
public sealed record RouteAdd(string Destination, string? Device, string? Via, Place In) : LabAction
{
    public override string Keyword => "route-add";
}

/// <summary>sysctl -w KEY=VALUE; the old value is restored at teardown.</summary>
public sealed record SysctlSet(string Key, string Value, Place In) : LabAction
{
    public override string Keyword => "sysctl";
}

/// <summary>iptables -t TABLE -P CHAIN POLICY; the old policy is restored at teardown.</summary>
public sealed record IptablesPolicy(string Table, string Chain, string Policy, Place In) : LabAction
{
    public override string Keyword => "iptables-policy";
}

/// <summary>Starts a container (busybox), optionally in the network namespace of another one (a pod).</summary>
public sealed record ContainerRun(string Name, string Image, string? ShareNetnsWith) : LabAction
{
    public override string Keyword => "container-run";
}

public sealed record ContainerStop(string Name) : LabAction
{
    public override string Keyword => "container-stop";
}

/// <summary>ln -s /proc/PID/ns/net /var/run/netns/PID, so that "ip netns" sees a container's namespace.</summary>
public sealed record NetnsSymlink(string Container) : LabAction
{
    public override string Keyword => "netns-symlink";
}

/// <summary>
/// A literal command (argv, never through a shell) with its explicit undo (null when it changes nothing).
/// Arguments may use ${container.pid} and ${uplink.ip}.
/// </summary>
public sealed record RunCommand(ImmutableArray<string> Argv, Place In, ImmutableArray<string>? Undo) : LabAction
{
    public override string Keyword => "command";
}
