namespace LabRunner.Platform.Netlink;

// The numbers of NETLINK_ROUTE, as the kernel's uapi headers define them (linux/netlink.h, rtnetlink.h, if_link.h,
// veth.h, if_addr.h, neighbour.h, if.h). Only what this layer sends or reads is here. Checked against the headers of
// linux-libc-dev with a C program printing each value; the sizes of the fixed headers are in Wire. The requests built
// from them were compared byte for byte with what iproute2 6.1 sends for the same commands (strace, in a private
// network namespace).

/// <summary>nlmsghdr.nlmsg_type: the control messages (netlink.h) and the rtnetlink requests (rtnetlink.h).</summary>
public enum NetlinkMessageType : ushort
{
    Noop = 1,      // NLMSG_NOOP
    Error = 2,     // NLMSG_ERROR: an error, or an ACK when its error is 0
    Done = 3,      // NLMSG_DONE: the end of a dump
    Overrun = 4,   // NLMSG_OVERRUN
    NewLink = 16,  // RTM_NEWLINK
    DelLink = 17,  // RTM_DELLINK
    GetLink = 18,  // RTM_GETLINK
    SetLink = 19,  // RTM_SETLINK
    NewAddr = 20,  // RTM_NEWADDR
    DelAddr = 21,  // RTM_DELADDR
    GetAddr = 22,  // RTM_GETADDR
    NewRoute = 24, // RTM_NEWROUTE
    DelRoute = 25, // RTM_DELROUTE
    GetRoute = 26, // RTM_GETROUTE
    NewNeigh = 28, // RTM_NEWNEIGH
    DelNeigh = 29, // RTM_DELNEIGH
    GetNeigh = 30, // RTM_GETNEIGH
}

/// <summary>nlmsghdr.nlmsg_flags (NLM_F_*). The high byte means different things for GET, NEW, DEL and ACK messages.</summary>
[Flags]
public enum NetlinkFlags : ushort
{
    None = 0,
    Request = 0x01,         // NLM_F_REQUEST
    Multi = 0x02,           // NLM_F_MULTI: a part of a multi-part reply, ended by NLMSG_DONE
    Ack = 0x04,             // NLM_F_ACK: answer with an ACK (or an error)
    Echo = 0x08,            // NLM_F_ECHO
    DumpInterrupted = 0x10, // NLM_F_DUMP_INTR: the dump was inconsistent (the table changed under it)
    DumpFiltered = 0x20,    // NLM_F_DUMP_FILTERED
    // GET
    Root = 0x100,           // NLM_F_ROOT
    Match = 0x200,          // NLM_F_MATCH
    Dump = Root | Match,    // NLM_F_DUMP
    // NEW
    Replace = 0x100,        // NLM_F_REPLACE
    Excl = 0x200,           // NLM_F_EXCL: fail if it exists (EEXIST)
    Create = 0x400,         // NLM_F_CREATE
    Append = 0x800,         // NLM_F_APPEND
    // ACK (NLMSG_ERROR)
    Capped = 0x100,         // NLM_F_CAPPED: only the header of the request is echoed
    AckTlvs = 0x200,        // NLM_F_ACK_TLVS: extended-ACK attributes follow
}

/// <summary>struct ifinfomsg's attributes (IFLA_*, if_link.h).</summary>
public static class Ifla
{
    public const ushort Address = 1;     // IFLA_ADDRESS: the hardware address
    public const ushort Broadcast = 2;   // IFLA_BROADCAST
    public const ushort IfName = 3;      // IFLA_IFNAME: NUL-terminated
    public const ushort Mtu = 4;         // IFLA_MTU: u32
    public const ushort Link = 5;        // IFLA_LINK: u32, a veth's peer ifindex (in IFLA_LINK_NETNSID's namespace if given)
    public const ushort Master = 10;     // IFLA_MASTER: u32 ifindex, 0 = no master
    public const ushort TxQLen = 13;     // IFLA_TXQLEN: u32
    public const ushort OperState = 16;  // IFLA_OPERSTATE: u8 (IF_OPER_*)
    public const ushort LinkInfo = 18;   // IFLA_LINKINFO: nested IFLA_INFO_*
    public const ushort NetNsPid = 19;   // IFLA_NET_NS_PID: u32, the namespace of that process
    public const ushort IfAlias = 20;    // IFLA_IFALIAS: string (iproute2 sends it without NUL; empty clears it)
    public const ushort NetNsFd = 28;    // IFLA_NET_NS_FD: u32, a descriptor of the sender naming a network namespace
    public const ushort ExtMask = 29;    // IFLA_EXT_MASK: u32 RTEXT_FILTER_*
    public const ushort LinkNetnsId = 37; // IFLA_LINK_NETNSID: s32, the namespace (by id) IFLA_LINK lives in

    public const uint RtextFilterSkipStats = 1 << 3; // RTEXT_FILTER_SKIP_STATS (rtnetlink.h): no IFLA_STATS* in replies
}

/// <summary>IFLA_LINKINFO's nested attributes (IFLA_INFO_*).</summary>
public static class IflaInfo
{
    public const ushort Kind = 1;       // IFLA_INFO_KIND: "veth", "bridge", "vxlan" (iproute2 sends no NUL, the kernel replies with one)
    public const ushort Data = 2;       // IFLA_INFO_DATA: the kind's own attributes
    public const ushort SlaveKind = 4;  // IFLA_INFO_SLAVE_KIND: the master's kind, "bridge" for a bridge port
}

/// <summary>A veth's IFLA_INFO_DATA (veth.h).</summary>
public static class VethInfo
{
    /// <summary>VETH_INFO_PEER: a struct ifinfomsg followed by the peer's IFLA_* attributes.</summary>
    public const ushort Peer = 1;
}

/// <summary>A vxlan's IFLA_INFO_DATA (IFLA_VXLAN_*, if_link.h).</summary>
public static class IflaVxlan
{
    public const ushort Id = 1;       // u32 VNI
    public const ushort Group = 2;    // in_addr: the remote (unicast) or group (multicast)
    public const ushort Link = 3;     // u32 ifindex of the underlying device ("dev")
    public const ushort Local = 4;    // in_addr
    public const ushort Learning = 7; // u8
    public const ushort Port = 15;    // be16: destination UDP port, network byte order
    public const ushort Group6 = 16;  // in6_addr
    public const ushort Local6 = 17;  // in6_addr
}

/// <summary>struct ifaddrmsg's attributes (IFA_*, if_addr.h).</summary>
public static class Ifa
{
    public const ushort Address = 1;   // IFA_ADDRESS: the prefix address (the peer on point-to-point links)
    public const ushort Local = 2;     // IFA_LOCAL: the local address (IPv4; IPv6 replies give only IFA_ADDRESS)
    public const ushort Label = 3;     // IFA_LABEL
    public const ushort Broadcast = 4; // IFA_BROADCAST
    public const ushort Flags = 8;     // IFA_FLAGS: u32, overrides ifa_flags

    public const byte FlagNoDad = 0x02; // IFA_F_NODAD (in ifa_flags): no duplicate address detection, never tentative
}

/// <summary>struct rtmsg's attributes (RTA_*, rtnetlink.h).</summary>
public static class Rta
{
    public const ushort Dst = 1;      // RTA_DST
    public const ushort Oif = 4;      // RTA_OIF: u32
    public const ushort Gateway = 5;  // RTA_GATEWAY
    public const ushort Priority = 6; // RTA_PRIORITY: u32 metric
    public const ushort PrefSrc = 7;  // RTA_PREFSRC
    public const ushort Table = 15;   // RTA_TABLE: u32, the table when it does not fit rtm_table
}

/// <summary>struct ndmsg's attributes (NDA_*, neighbour.h).</summary>
public static class Nda
{
    public const ushort Dst = 1;    // NDA_DST: the neighbour's network address
    public const ushort LlAddr = 2; // NDA_LLADDR: its link-layer address
}

/// <summary>rtm_table, rtm_protocol, rtm_scope, rtm_type values (rtnetlink.h).</summary>
public static class RouteConstants
{
    public const byte TableMain = 254;     // RT_TABLE_MAIN
    public const byte TableLocal = 255;    // RT_TABLE_LOCAL
    public const byte ProtocolKernel = 2;  // RTPROT_KERNEL
    public const byte ProtocolBoot = 3;    // RTPROT_BOOT: what `ip route add` sets
    public const byte ScopeUniverse = 0;   // RT_SCOPE_UNIVERSE
    public const byte ScopeLink = 253;     // RT_SCOPE_LINK
    public const byte ScopeHost = 254;     // RT_SCOPE_HOST
    public const byte ScopeNowhere = 255;  // RT_SCOPE_NOWHERE
    public const byte TypeUnspec = 0;      // RTN_UNSPEC
    public const byte TypeUnicast = 1;     // RTN_UNICAST
    public const byte TypeLocal = 2;       // RTN_LOCAL
}

/// <summary>ifi_flags (IFF_*, if.h).</summary>
[Flags]
public enum InterfaceFlags : uint
{
    None = 0,
    Up = 1 << 0,
    Broadcast = 1 << 1,
    Loopback = 1 << 3,
    PointToPoint = 1 << 4,
    Running = 1 << 6,
    NoArp = 1 << 7,
    Promisc = 1 << 8,
    AllMulti = 1 << 9,
    Master = 1 << 10,
    Slave = 1 << 11,
    Multicast = 1 << 12,
    LowerUp = 1 << 16,
    Dormant = 1 << 17,
}

/// <summary>IFLA_OPERSTATE (IF_OPER_*, if.h): RFC 2863 operational state.</summary>
public enum OperState : byte
{
    Unknown = 0,
    NotPresent = 1,
    Down = 2,
    LowerLayerDown = 3,
    Testing = 4,
    Dormant = 5,
    Up = 6,
}

/// <summary>ndm_state (NUD_*, neighbour.h).</summary>
[Flags]
public enum NeighbourState : ushort
{
    None = 0,
    Incomplete = 0x01,
    Reachable = 0x02,
    Stale = 0x04,
    Delay = 0x08,
    Probe = 0x10,
    Failed = 0x20,
    NoArp = 0x40,
    Permanent = 0x80,
}

/// <summary>The names iproute2 prints for these values (`ip -j`'s "operstate" and neighbour "state").</summary>
public static class Iproute2Names
{
    /// <summary>"UP", "DOWN", "LOWERLAYERDOWN", … as `ip link` prints operstate.</summary>
    public static string Of(OperState state) => state switch
    {
        OperState.Unknown => "UNKNOWN",
        OperState.NotPresent => "NOTPRESENT",
        OperState.Down => "DOWN",
        OperState.LowerLayerDown => "LOWERLAYERDOWN",
        OperState.Testing => "TESTING",
        OperState.Dormant => "DORMANT",
        OperState.Up => "UP",
        _ => ((byte)state).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>"REACHABLE", "STALE", … (several joined by a space, as `ip neigh` prints them); "NONE" for 0.</summary>
    public static string Of(NeighbourState state)
    {
        if (state == NeighbourState.None) return "NONE";
        var names = new List<string>();
        foreach (var (flag, name) in NeighbourNames)
            if ((state & flag) != 0) names.Add(name);
        return string.Join(' ', names);
    }

    private static readonly (NeighbourState, string)[] NeighbourNames =
    [
        (NeighbourState.Incomplete, "INCOMPLETE"), (NeighbourState.Reachable, "REACHABLE"), (NeighbourState.Stale, "STALE"),
        (NeighbourState.Delay, "DELAY"), (NeighbourState.Probe, "PROBE"), (NeighbourState.Failed, "FAILED"),
        (NeighbourState.NoArp, "NOARP"), (NeighbourState.Permanent, "PERMANENT"),
    ];
}
