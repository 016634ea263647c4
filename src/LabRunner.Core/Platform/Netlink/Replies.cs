using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// A link, from an RTM_NEWLINK reply (struct ifinfomsg and its IFLA_* attributes).
/// <see cref="LinkIndex"/> is IFLA_LINK: a veth's peer ifindex, in the namespace <see cref="LinkNetnsId"/> names when
/// the peer is elsewhere (IFLA_LINK_NETNSID, an id this namespace gives the other). <see cref="Kind"/> is
/// IFLA_LINKINFO's IFLA_INFO_KIND ("veth", "bridge", "vxlan"; null for lo or a physical device) and
/// <see cref="SlaveKind"/> the master's kind ("bridge" for a bridge port).
/// </summary>
public sealed record NlLink(
    int Index,
    string Name,
    InterfaceFlags Flags,
    OperState OperState,
    int Mtu,
    string? Address,
    int? MasterIndex,
    int? LinkIndex,
    int? LinkNetnsId,
    string? Kind,
    string? SlaveKind,
    string? Alias,
    uint? TxQueueLength)
{
    public bool IsUp => (Flags & InterfaceFlags.Up) != 0;

    /// <exception cref="NetlinkProtocolException">Not an RTM_NEWLINK, or without a name.</exception>
    public static NlLink Parse(NetlinkMessage message)
    {
        Expect(message, NetlinkMessageType.NewLink, Wire.IfInfoMsgSize);
        var body = message.Body.Span;
        var index = MemoryMarshal.Read<int>(body[4..]);
        var flags = (InterfaceFlags)MemoryMarshal.Read<uint>(body[8..]);
        var a = NetlinkAttributes.Parse(message.Body[Wire.IfInfoMsgSize..]);
        var info = a.Nested(Ifla.LinkInfo);
        var master = a.U32(Ifla.Master);
        var link = a.S32(Ifla.Link);
        return new NlLink(
            index,
            a.String(Ifla.IfName) ?? throw new NetlinkProtocolException($"link {index} has no IFLA_IFNAME"),
            flags,
            (OperState)(a.U8(Ifla.OperState) ?? 0),
            (int)(a.U32(Ifla.Mtu) ?? 0),
            a.Get(Ifla.Address) is { } mac ? FormatMac(mac.Payload.Span) : null,
            master is > 0 ? (int)master : null,
            link is > 0 ? link : null, // with a link-netnsid the kernel sends it even when it equals our own index
            a.S32(Ifla.LinkNetnsId),
            info?.String(IflaInfo.Kind),
            info?.String(IflaInfo.SlaveKind),
            a.String(Ifla.IfAlias),
            a.U32(Ifla.TxQLen));
    }

    /// <summary>Hardware address bytes as iproute2 prints them: lower-case hex, colon-separated; null when empty.</summary>
    public static string? FormatMac(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return null;
        return string.Join(':', bytes.ToArray().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    internal static void Expect(NetlinkMessage message, NetlinkMessageType type, int headerSize)
    {
        if (message.Type != type) throw new NetlinkProtocolException($"expected {type}, got message type {(ushort)message.Type}");
        if (message.Body.Length < headerSize) throw new NetlinkProtocolException($"a {type} of {message.Body.Length} bytes is shorter than its {headerSize}-byte header");
    }

    internal static IPAddress? Ip(NetlinkAttributes a, ushort type) =>
        a.Get(type) is { } attr && attr.Payload.Length is 4 or 16 ? new IPAddress(attr.Payload.Span) : null;

    internal static AddressFamily FamilyOf(byte family) => family switch
    {
        2 => AddressFamily.InterNetwork,
        10 => AddressFamily.InterNetworkV6,
        _ => AddressFamily.Unknown, // AF_BRIDGE (7) for fdb entries, AF_UNSPEC

    };
}

/// <summary>
/// An address, from an RTM_NEWADDR reply (struct ifaddrmsg, IFA_*). <see cref="Local"/> is what `ip addr` shows
/// (IFA_LOCAL, or IFA_ADDRESS for IPv6, which sends only that); <see cref="Address"/> is IFA_ADDRESS (the peer on a
/// point-to-point link). <see cref="Flags"/> is IFA_FLAGS when given, else ifa_flags.
/// </summary>
public sealed record NlAddress(int Index, AddressFamily Family, IPAddress Local, int PrefixLength, IPAddress Address, byte Scope, uint Flags, string? Label)
{
    /// <summary>"10.0.0.1/24".</summary>
    public string Cidr => $"{Local}/{PrefixLength}";

    /// <exception cref="NetlinkProtocolException">Not an RTM_NEWADDR, or without an address.</exception>
    public static NlAddress Parse(NetlinkMessage message)
    {
        NlLink.Expect(message, NetlinkMessageType.NewAddr, Wire.IfAddrMsgSize);
        var body = message.Body.Span;
        var index = MemoryMarshal.Read<int>(body[4..]);
        var a = NetlinkAttributes.Parse(message.Body[Wire.IfAddrMsgSize..]);
        var local = NlLink.Ip(a, Ifa.Local);
        var address = NlLink.Ip(a, Ifa.Address);
        var shown = local ?? address ?? throw new NetlinkProtocolException($"an address of link {index} has neither IFA_LOCAL nor IFA_ADDRESS");
        return new NlAddress(index, NlLink.FamilyOf(body[0]), shown, body[1], address ?? shown, body[3], a.U32(Ifa.Flags) ?? body[2], a.String(Ifa.Label));
    }
}

/// <summary>
/// A route, from an RTM_NEWROUTE reply (struct rtmsg, RTA_*). <see cref="Destination"/> is null for a default route
/// (no RTA_DST, length 0); <see cref="Table"/> is RTA_TABLE when given, else rtm_table (254 = main, 255 = local).
/// </summary>
public sealed record NlRoute(
    AddressFamily Family,
    IPAddress? Destination,
    int DestinationLength,
    IPAddress? Gateway,
    int? OutputIndex,
    uint Table,
    byte Protocol,
    byte Scope,
    byte Type,
    IPAddress? PreferredSource,
    uint? Priority)
{
    public bool IsDefault => DestinationLength == 0;

    /// <summary>"default" or "10.0.0.0/24", as `ip route` prints the destination.</summary>
    public string Display => IsDefault ? "default" : DestinationLength == (Family == AddressFamily.InterNetwork ? 32 : 128)
        ? $"{Destination}" : $"{Destination}/{DestinationLength}";

    /// <exception cref="NetlinkProtocolException">Not an RTM_NEWROUTE.</exception>
    public static NlRoute Parse(NetlinkMessage message)
    {
        NlLink.Expect(message, NetlinkMessageType.NewRoute, Wire.RtMsgSize);
        var body = message.Body.Span;
        var a = NetlinkAttributes.Parse(message.Body[Wire.RtMsgSize..]);
        var oif = a.U32(Rta.Oif);
        return new NlRoute(
            NlLink.FamilyOf(body[0]),
            NlLink.Ip(a, Rta.Dst),
            body[1],
            NlLink.Ip(a, Rta.Gateway),
            oif is { } o ? (int)o : null,
            a.U32(Rta.Table) ?? body[4],
            body[5],
            body[6],
            body[7],
            NlLink.Ip(a, Rta.PrefSrc),
            a.U32(Rta.Priority));
    }
}

/// <summary>A neighbour (ARP / NDP) entry, from an RTM_NEWNEIGH reply (struct ndmsg, NDA_*).</summary>
public sealed record NlNeighbour(int Index, AddressFamily Family, IPAddress? Destination, string? LinkAddress, NeighbourState State, byte Flags, byte Type)
{
    /// <exception cref="NetlinkProtocolException">Not an RTM_NEWNEIGH.</exception>
    public static NlNeighbour Parse(NetlinkMessage message)
    {
        NlLink.Expect(message, NetlinkMessageType.NewNeigh, Wire.NdMsgSize);
        var body = message.Body.Span;
        var a = NetlinkAttributes.Parse(message.Body[Wire.NdMsgSize..]);
        return new NlNeighbour(
            MemoryMarshal.Read<int>(body[4..]),
            NlLink.FamilyOf(body[0]),
            NlLink.Ip(a, Nda.Dst),
            a.Get(Nda.LlAddr) is { } ll ? NlLink.FormatMac(ll.Payload.Span) : null,
            (NeighbourState)MemoryMarshal.Read<ushort>(body[8..]),
            body[10],
            body[11]);
    }
}
