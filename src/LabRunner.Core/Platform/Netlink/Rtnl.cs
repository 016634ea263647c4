using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// The rtnetlink requests LabRunner makes, each built as iproute2 builds the `ip` command it stands for (same
/// message type, flags, family header and attributes; the names sent as IFLA_IFNAME where `ip` would first look up
/// the index). Every request but a dump asks for an ACK, so its exchange ends at the ACK or the error.
/// </summary>
public static class Rtnl
{
    private const NetlinkFlags Ack = NetlinkFlags.Request | NetlinkFlags.Ack;
    private const NetlinkFlags CreateExclusive = Ack | NetlinkFlags.Create | NetlinkFlags.Excl;
    private const NetlinkFlags Dump = NetlinkFlags.Request | NetlinkFlags.Dump;

    private const byte AfUnspec = 0, AfInet = 2, AfInet6 = 10;

    // ---- links ----

    /// <summary>
    /// <c>ip link add NAME type veth peer name PEER [netns NS]</c>: IFLA_IFNAME NAME, IFLA_LINKINFO {IFLA_INFO_KIND
    /// "veth" (without NUL), IFLA_INFO_DATA {VETH_INFO_PEER {struct ifinfomsg, [IFLA_NET_NS_FD | IFLA_NET_NS_PID], IFLA_IFNAME PEER}}}.
    /// </summary>
    public static NetlinkRequest AddVeth(string name, string peer, NetnsRef? peerNetns = null)
    {
        var (n, p) = (LinkRef.ByName(name), LinkRef.ByName(peer));
        return NewLink(n.Name!, "veth", data => data.Nested(VethInfo.Peer, info =>
        {
            info.Raw(Headers.IfInfoMsg());
            if (peerNetns is not null) info.U32(peerNetns.Attribute, (uint)peerNetns.Value);
            info.String(Ifla.IfName, p.Name!);
        }));
    }

    /// <summary><c>ip link add NAME type bridge</c>.</summary>
    public static NetlinkRequest AddBridge(string name) => NewLink(LinkRef.ByName(name).Name!, "bridge", data: null);

    /// <summary>
    /// <c>ip link add NAME type vxlan id ID [remote IP] [local IP] [dev DEV] dstport PORT</c>: IFLA_INFO_DATA holds
    /// [IFLA_VXLAN_LINK], IFLA_VXLAN_ID, [IFLA_VXLAN_LOCAL(6)], [IFLA_VXLAN_GROUP(6)], IFLA_VXLAN_LEARNING 1 and
    /// IFLA_VXLAN_PORT (network order, left out for port 0: the kernel's default), in iproute2's order.
    /// </summary>
    public static NetlinkRequest AddVxlan(string name, VxlanSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Id >= 1u << 24) throw new ArgumentOutOfRangeException(nameof(spec), spec.Id, "a VXLAN id has 24 bits");
        if (spec.Remote is { } r && spec.Local is { } l && r.AddressFamily != l.AddressFamily)
            throw new ArgumentException("remote and local must be of one address family", nameof(spec));
        return NewLink(LinkRef.ByName(name).Name!, "vxlan", data =>
        {
            if (spec.DeviceIndex is { } dev) data.U32(IflaVxlan.Link, (uint)dev);
            data.U32(IflaVxlan.Id, spec.Id);
            if (spec.Local is { } local) data.Attribute(IsV4(local) ? IflaVxlan.Local : IflaVxlan.Local6, AddressBytes(local));
            if (spec.Remote is { } remote) data.Attribute(IsV4(remote) ? IflaVxlan.Group : IflaVxlan.Group6, AddressBytes(remote));
            data.U8(IflaVxlan.Learning, 1);
            if (spec.DestinationPort != 0) data.U16BigEndian(IflaVxlan.Port, spec.DestinationPort);
        });
    }

    private static NetlinkRequest NewLink(string name, string kind, Action<NetlinkWriter>? data)
    {
        var w = new NetlinkWriter().Raw(Headers.IfInfoMsg());
        w.String(Ifla.IfName, name);
        w.Nested(Ifla.LinkInfo, info =>
        {
            info.StringWithoutNul(IflaInfo.Kind, kind); // iproute2 sends strlen(kind), no NUL
            if (data is not null) info.Nested(IflaInfo.Data, data);
        });
        return new NetlinkRequest(NetlinkMessageType.NewLink, CreateExclusive, w.ToArray());
    }

    /// <summary>
    /// <c>ip link set dev NAME [up|down] [address MAC] [mtu N] [txqueuelen N] [alias TEXT] [master M|nomaster] [netns NS]</c>:
    /// RTM_NEWLINK without NLM_F_CREATE (as `ip link set` sends it) or RTM_SETLINK; up/down as ifi_flags under the
    /// ifi_change mask IFF_UP, the rest as attributes, the link by ifindex or by IFLA_IFNAME (after the others).
    /// </summary>
    public static NetlinkRequest SetLink(LinkRef link, LinkSettings settings, NetlinkMessageType command = NetlinkMessageType.NewLink)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (command is not (NetlinkMessageType.NewLink or NetlinkMessageType.SetLink))
            throw new ArgumentOutOfRangeException(nameof(command), command, "a link is changed with RTM_NEWLINK or RTM_SETLINK");
        if (settings.SetsNothing) throw new ArgumentException("the settings change nothing", nameof(settings));
        var flags = settings.Up == true ? InterfaceFlags.Up : InterfaceFlags.None;
        var change = settings.Up is null ? InterfaceFlags.None : InterfaceFlags.Up;
        var w = new NetlinkWriter().Raw(Headers.IfInfoMsg(link.Index, flags, change));
        if (settings.Address is { } mac) w.Attribute(Ifla.Address, ParseMac(mac));
        if (settings.Mtu is { } mtu) w.U32(Ifla.Mtu, checked((uint)mtu));
        if (settings.TxQueueLength is { } txqlen) w.U32(Ifla.TxQLen, txqlen);
        if (settings.Alias is { } alias) w.StringWithoutNul(Ifla.IfAlias, alias);
        if (settings.Master is { } master) w.U32(Ifla.Master, checked((uint)master));
        if (settings.Netns is { } netns) w.U32(netns.Attribute, (uint)netns.Value);
        NameLast(w, link);
        return new NetlinkRequest(command, Ack, w.ToArray(), link.Name);
    }

    public static NetlinkRequest SetUp(LinkRef link) => SetLink(link, new LinkSettings { Up = true });

    public static NetlinkRequest SetDown(LinkRef link) => SetLink(link, new LinkSettings { Up = false });

    /// <summary><c>ip link set dev NAME master M</c>: IFLA_MASTER the master's ifindex.</summary>
    public static NetlinkRequest SetMaster(LinkRef link, int masterIndex) =>
        masterIndex > 0 ? SetLink(link, new LinkSettings { Master = masterIndex }) : throw new ArgumentOutOfRangeException(nameof(masterIndex));

    /// <summary><c>ip link set dev NAME nomaster</c>: IFLA_MASTER 0.</summary>
    public static NetlinkRequest SetNoMaster(LinkRef link) => SetLink(link, new LinkSettings { Master = 0 });

    /// <summary><c>ip link set dev NAME netns NS</c>.</summary>
    public static NetlinkRequest MoveToNetns(LinkRef link, NetnsRef netns) => SetLink(link, new LinkSettings { Netns = netns });

    /// <summary><c>ip link del dev NAME</c>: RTM_DELLINK.</summary>
    public static NetlinkRequest DeleteLink(LinkRef link)
    {
        var w = new NetlinkWriter().Raw(Headers.IfInfoMsg(link.Index));
        NameLast(w, link);
        return new NetlinkRequest(NetlinkMessageType.DelLink, Ack, w.ToArray(), link.Name);
    }

    /// <summary>One link (RTM_GETLINK without NLM_F_DUMP), statistics left out; answered by one RTM_NEWLINK.</summary>
    public static NetlinkRequest GetLink(LinkRef link)
    {
        var w = new NetlinkWriter().Raw(Headers.IfInfoMsg(link.Index));
        w.U32(Ifla.ExtMask, Ifla.RtextFilterSkipStats);
        NameLast(w, link);
        return new NetlinkRequest(NetlinkMessageType.GetLink, Ack, w.ToArray(), link.Name);
    }

    /// <summary>Every link of the namespace (`ip link show`), statistics left out.</summary>
    public static NetlinkRequest DumpLinks()
    {
        var w = new NetlinkWriter().Raw(Headers.IfInfoMsg());
        w.U32(Ifla.ExtMask, Ifla.RtextFilterSkipStats);
        return new NetlinkRequest(NetlinkMessageType.GetLink, Dump, w.ToArray());
    }

    private static void NameLast(NetlinkWriter w, LinkRef link)
    {
        if (link.Name is { } name) w.String(Ifla.IfName, name);
    }

    // ---- addresses ----

    /// <summary>
    /// <c>ip addr add ADDRESS/PREFIX dev DEV [nodad]</c>: struct ifaddrmsg {family, prefixlen, flags (IFA_F_NODAD with
    /// <paramref name="noDad"/>: iproute2 puts flags that fit in a byte there, not in IFA_FLAGS), scope (host for
    /// 127.0.0.0/8, else universe), ifindex}, IFA_LOCAL and IFA_ADDRESS both the address.
    /// <paramref name="device"/> is the link's name, for the error text.
    /// </summary>
    public static NetlinkRequest AddAddress(int ifindex, IPAddress address, int prefixLength, string? device = null, bool noDad = false) =>
        Address(NetlinkMessageType.NewAddr, CreateExclusive, ifindex, address, prefixLength, device, noDad ? Ifa.FlagNoDad : (byte)0);

    /// <summary><c>ip addr del ADDRESS/PREFIX dev DEV</c>: the same attributes, scope 0.</summary>
    public static NetlinkRequest DeleteAddress(int ifindex, IPAddress address, int prefixLength, string? device = null) =>
        Address(NetlinkMessageType.DelAddr, Ack, ifindex, address, prefixLength, device, 0);

    private static NetlinkRequest Address(NetlinkMessageType type, NetlinkFlags flags, int ifindex, IPAddress address, int prefixLength, string? device,
        byte addressFlags)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (ifindex <= 0) throw new ArgumentOutOfRangeException(nameof(ifindex));
        var family = Family(address);
        if (prefixLength < 0 || prefixLength > (family == AfInet ? 32 : 128)) throw new ArgumentOutOfRangeException(nameof(prefixLength));
        var bytes = AddressBytes(address);
        var scope = type == NetlinkMessageType.NewAddr && family == AfInet && bytes[0] == 127 ? RouteConstants.ScopeHost : RouteConstants.ScopeUniverse;
        var w = new NetlinkWriter().Raw(Headers.IfAddrMsg(family, (byte)prefixLength, scope, ifindex, addressFlags));
        w.Attribute(Ifa.Local, bytes);
        w.Attribute(Ifa.Address, bytes);
        return new NetlinkRequest(type, flags, w.ToArray(), device);
    }

    /// <summary>Every address of the namespace (`ip addr show`), of one family or (Unspecified) all.</summary>
    public static NetlinkRequest DumpAddresses(AddressFamily family = AddressFamily.Unspecified) =>
        new(NetlinkMessageType.GetAddr, Dump, Headers.IfAddrMsg(DumpFamily(family)));

    // ---- routes ----

    /// <summary>
    /// <c>ip route add DESTINATION|default [via GATEWAY] [dev DEV]</c> in the main table: struct rtmsg {family, dst_len,
    /// table main, protocol boot, scope (link without a gateway, else universe; always universe for IPv6), type
    /// unicast}, RTA_DST (not for default; for a /0 such as ::/0 too, all zeros, as iproute2 sends it), RTA_GATEWAY,
    /// RTA_OIF. <paramref name="destination"/> null is "default" (then <paramref name="family"/> or the gateway gives the family).
    /// </summary>
    public static NetlinkRequest AddRoute(IPNetwork? destination, IPAddress? gateway = null, int? outputIndex = null,
        AddressFamily family = AddressFamily.Unspecified, string? device = null) =>
        Route(add: true, destination, gateway, outputIndex, family, device);

    /// <summary>
    /// <c>ip route del …</c>: the same attributes; protocol and type 0, scope nowhere (universe for IPv6), as iproute2
    /// leaves them so the kernel matches any.
    /// </summary>
    public static NetlinkRequest DeleteRoute(IPNetwork? destination, IPAddress? gateway = null, int? outputIndex = null,
        AddressFamily family = AddressFamily.Unspecified, string? device = null) =>
        Route(add: false, destination, gateway, outputIndex, family, device);

    private static NetlinkRequest Route(bool add, IPNetwork? destination, IPAddress? gateway, int? outputIndex, AddressFamily family, string? device)
    {
        var fam = destination is { } d ? Family(d.BaseAddress) : gateway is not null ? Family(gateway) : family switch
        {
            AddressFamily.InterNetwork => AfInet,
            AddressFamily.InterNetworkV6 => AfInet6,
            _ => throw new ArgumentException("a default route without a gateway needs its address family", nameof(family)),
        };
        if (gateway is not null && Family(gateway) != fam) throw new ArgumentException("the gateway is not of the destination's family", nameof(gateway));
        if (outputIndex is <= 0) throw new ArgumentOutOfRangeException(nameof(outputIndex));
        var length = (byte)(destination?.PrefixLength ?? 0);
        byte scope = fam == AfInet6 ? RouteConstants.ScopeUniverse
            : !add ? RouteConstants.ScopeNowhere
            : gateway is null ? RouteConstants.ScopeLink : RouteConstants.ScopeUniverse;
        var w = new NetlinkWriter().Raw(Headers.RtMsg(fam, length, RouteConstants.TableMain,
            add ? RouteConstants.ProtocolBoot : (byte)0, scope, add ? RouteConstants.TypeUnicast : RouteConstants.TypeUnspec));
        if (destination is { } dst) w.Attribute(Rta.Dst, AddressBytes(dst.BaseAddress));
        if (gateway is not null) w.Attribute(Rta.Gateway, AddressBytes(gateway));
        if (outputIndex is { } oif) w.U32(Rta.Oif, (uint)oif);
        return new NetlinkRequest(add ? NetlinkMessageType.NewRoute : NetlinkMessageType.DelRoute, add ? CreateExclusive : Ack, w.ToArray(), device);
    }

    /// <summary>Every route of the namespace, every table (`ip route show table all`); filter on <see cref="NlRoute.Table"/>.</summary>
    public static NetlinkRequest DumpRoutes(AddressFamily family = AddressFamily.Unspecified) =>
        new(NetlinkMessageType.GetRoute, Dump, Headers.RtMsg(DumpFamily(family)));

    // ---- neighbours ----

    /// <summary>Every neighbour entry of the namespace (`ip neigh show`).</summary>
    public static NetlinkRequest DumpNeighbours(AddressFamily family = AddressFamily.Unspecified) =>
        new(NetlinkMessageType.GetNeigh, Dump, Headers.NdMsg(DumpFamily(family)));

    // ---- helpers ----

    private static bool IsV4(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork;

    private static byte Family(IPAddress a) => a.AddressFamily switch
    {
        AddressFamily.InterNetwork => AfInet,
        AddressFamily.InterNetworkV6 => AfInet6,
        _ => throw new ArgumentException($"{a} is neither IPv4 nor IPv6"),
    };

    private static byte DumpFamily(AddressFamily family) => family switch
    {
        AddressFamily.Unspecified => AfUnspec,
        AddressFamily.InterNetwork => AfInet,
        AddressFamily.InterNetworkV6 => AfInet6,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "IPv4, IPv6 or unspecified"),
    };

    private static byte[] AddressBytes(IPAddress a) => a.GetAddressBytes();

    /// <summary>"aa:bb:cc:dd:ee:ff" → 6 bytes.</summary>
    internal static byte[] ParseMac(string mac)
    {
        var parts = mac.Split(':');
        if (parts.Length != 6 || parts.Any(p => p.Length != 2))
            throw new ArgumentException($"\"{mac}\" is not a MAC address (aa:bb:cc:dd:ee:ff)", nameof(mac));
        var bytes = new byte[6];
        for (var i = 0; i < 6; i++)
        {
            if (!byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out bytes[i]))
                throw new ArgumentException($"\"{mac}\" is not a MAC address (aa:bb:cc:dd:ee:ff)", nameof(mac));
        }
        return bytes;
    }
}

/// <summary>A VXLAN end: its id (VNI), destination UDP port (0: the kernel's default), remote, local and underlying device.</summary>
public sealed record VxlanSpec(uint Id, ushort DestinationPort, IPAddress? Remote = null, IPAddress? Local = null, int? DeviceIndex = null);
