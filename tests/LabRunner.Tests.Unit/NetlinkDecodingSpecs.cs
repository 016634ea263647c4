using System.Net;
using System.Net.Sockets;
using System.Text;
using LabRunner.Platform.Netlink;
using static LabRunner.Tests.Unit.NetlinkEncodingSpecs;

namespace LabRunner.Tests.Unit;

/// <summary>
/// Replies as the kernel sends them, built here byte by byte: a link dump in several datagrams ending with
/// NLMSG_DONE (a veth whose peer is in another namespace, a bridge port, lo), errors with and without the kernel's
/// extended-ACK text, and the texts iproute2 prints for them, which a lab's <c>fails-with</c> matches.
/// </summary>
public sealed class NetlinkDecodingSpecs
{
    private const uint Seq = 7, Port = 4321;

    // ---- test-side builders, independent of the layer's own writer ----

    private static byte[] Attr(ushort type, params byte[] payload)
    {
        var bytes = new byte[(4 + payload.Length + 3) & ~3];
        BitConverter.GetBytes((ushort)(4 + payload.Length)).CopyTo(bytes, 0);
        BitConverter.GetBytes(type).CopyTo(bytes, 2);
        payload.CopyTo(bytes, 4);
        return bytes;
    }

    private static byte[] U32(uint value) => BitConverter.GetBytes(value);

    private static byte[] Str(string value) => [.. Encoding.UTF8.GetBytes(value), 0];

    private static byte[] Msg(ushort type, ushort flags, uint seq, params byte[][] parts)
    {
        var body = parts.SelectMany(p => p).ToArray();
        return [.. U32((uint)(16 + body.Length)), .. BitConverter.GetBytes(type), .. BitConverter.GetBytes(flags), .. U32(seq), .. U32(Port), .. body];
    }

    private static byte[] IfInfo(int index, uint flags) => [0, 0, 1, 0, .. BitConverter.GetBytes(index), .. U32(flags), .. U32(0)];

    private static byte[] Done(uint seq, int error = 0) => Msg(3, 0x2, seq, BitConverter.GetBytes(error));

    /// <summary>veth0 (ifindex 2), up, its peer ifindex 7 in the namespace this one calls netnsid 0.</summary>
    private static readonly byte[] VethWithPeerElsewhere = Bytes(
        "70000000",                   // nlmsg_len 112
        "1000 0200",                  // RTM_NEWLINK, NLM_F_MULTI
        "07000000 e1100000",          // seq 7, pid 4321 (our port id)
        "00 00 0100 02000000",        // ifinfomsg: family 0, pad, ARPHRD_ETHER (1), ifindex 2
        "43100100 00000000",          // ifi_flags UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP (0x11043), ifi_change 0
        "0a00 0300 7665746830 00 0000", // IFLA_IFNAME len 10: "veth0\0" + 2 bytes of padding
        "0800 0400 dc050000",         // IFLA_MTU 1500
        "0500 1000 06 000000",        // IFLA_OPERSTATE IF_OPER_UP (6) + padding
        "0a00 0100 02aabbccddee 0000",// IFLA_ADDRESS 02:aa:bb:cc:dd:ee + padding
        "0800 0500 07000000",         // IFLA_LINK: the peer's ifindex 7
        "0800 2500 00000000",         // IFLA_LINK_NETNSID (37): 0
        "1000 1280",                  // IFLA_LINKINFO with NLA_F_NESTED (0x8000 | 18), len 16
        "0900 0100 7665746800 000000",//   IFLA_INFO_KIND "veth\0" + 3 bytes of padding
        "0800 0d00 e8030000");        // IFLA_TXQLEN 1000

    private static readonly byte[] Lo = Msg(16, 0x2, Seq, IfInfo(1, 0x10049), // UP|LOOPBACK|RUNNING|LOWER_UP
        Attr(3, Str("lo")), Attr(4, U32(65536)), Attr(16, 0), Attr(1, new byte[6]));

    private static readonly byte[] BridgePort = Msg(16, 0x2, Seq, IfInfo(4, 0x1003), // UP|BROADCAST|MULTICAST, not running
        Attr(3, Str("veth1")), Attr(4, U32(1500)), Attr(16, 2), Attr(10, U32(3)), Attr(5, U32(5)),
        Attr(18, [.. Attr(1, Str("veth")), .. Attr(4, Str("bridge"))]), Attr(20, Str("to the bridge")));

    [Fact]
    public void A_link_dump_in_two_datagrams_ends_at_DONE_and_keeps_only_the_messages_of_its_own_sequence()
    {
        var exchange = new NetlinkExchange(Rtnl.DumpLinks(), Seq, Port);

        Assert.False(exchange.Take([.. Lo, .. VethWithPeerElsewhere]));
        var stale = Msg(16, 0x2, Seq - 1, IfInfo(9, 0), Attr(3, Str("old")));
        Assert.True(exchange.Take([.. stale, .. BridgePort, .. Done(Seq)]));

        Assert.True(exchange.IsComplete);
        Assert.False(exchange.Interrupted);
        var links = exchange.Messages.Select(NlLink.Parse).ToList();
        Assert.Equal(new[] { "lo", "veth0", "veth1" }, links.Select(l => l.Name));

        var veth = links[1];
        Assert.Equal(new NlLink(2, "veth0", InterfaceFlags.Up | InterfaceFlags.Broadcast | InterfaceFlags.Running | InterfaceFlags.Multicast | InterfaceFlags.LowerUp,
            OperState.Up, 1500, "02:aa:bb:cc:dd:ee", MasterIndex: null, LinkIndex: 7, LinkNetnsId: 0, Kind: "veth", SlaveKind: null, Alias: null, TxQueueLength: 1000), veth);
        Assert.True(veth.IsUp);

        var port = links[2];
        Assert.Equal((3, 5, (int?)null, "veth", "bridge", "to the bridge"), (port.MasterIndex!.Value, port.LinkIndex!.Value, port.LinkNetnsId, port.Kind, port.SlaveKind, port.Alias));
        Assert.Equal((OperState.Down, false), (port.OperState, (port.Flags & InterfaceFlags.Running) != 0));

        var lo = links[0];
        Assert.Equal((1, (string?)null, (int?)null, "00:00:00:00:00:00", OperState.Unknown), (lo.Index, lo.Kind, lo.LinkIndex, lo.Address, lo.OperState));
        Assert.True((lo.Flags & InterfaceFlags.Loopback) != 0);
    }

    [Fact]
    public void A_dump_part_marked_NLM_F_DUMP_INTR_makes_the_exchange_interrupted()
    {
        var exchange = new NetlinkExchange(Rtnl.DumpLinks(), Seq, Port);
        var interrupted = Msg(16, 0x2 | 0x10, Seq, IfInfo(1, 0), Attr(3, Str("lo")));

        Assert.True(exchange.Take([.. interrupted, .. Done(Seq)]));
        Assert.True(exchange.Interrupted);
    }

    [Fact]
    public void A_change_ends_at_its_ACK_and_a_single_get_returns_the_message_before_it()
    {
        var ack = Msg(2, 0x100, Seq, U32(0), Bytes("2c000000 1000 0500 07000000 00000000")); // error 0, the request's header (capped)

        var change = new NetlinkExchange(Rtnl.SetUp("veth0"), Seq, Port);
        Assert.True(change.Take(ack));
        Assert.Empty(change.Messages);

        var get = new NetlinkExchange(Rtnl.GetLink("veth0"), Seq, Port);
        Assert.False(get.Take(VethWithPeerElsewhere));
        Assert.True(get.Take(ack));
        Assert.Equal("veth0", NlLink.Parse(Assert.Single(get.Messages)).Name);
    }

    [Fact]
    public void EEXIST_reads_as_iproute2_prints_it()
    {
        var error = Bytes(
            "24000000",                   // nlmsg_len 36
            "0200 0001",                  // NLMSG_ERROR; NLM_F_CAPPED (0x100): only the request's header is echoed
            "07000000 e1100000",
            "efffffff",                   // error -17 (EEXIST)
            "5c000000 1000 0506 07000000 00000000"); // the echoed nlmsghdr of our RTM_NEWLINK
        var exchange = new NetlinkExchange(Rtnl.AddVeth("veth-1", "veth-2"), Seq, Port);

        var e = Assert.Throws<NetlinkException>(() => exchange.Take(error));

        Assert.Equal("RTNETLINK answers: File exists", e.Message);
        Assert.Equal(17, e.Errno);
        Assert.Null(e.ExtendedMessage);
        Assert.True(exchange.IsComplete);
        Assert.Equal(new NetlinkError(17, Seq, null), NetlinkError.Parse(NetlinkMessage.Split(error)[0]));
    }

    [Fact]
    public void The_kernels_extended_ACK_text_is_printed_as_iproute2_prints_it()
    {
        var capped = Msg(2, 0x100 | 0x200, Seq, U32(unchecked((uint)-17)), // CAPPED | ACK_TLVS
            Bytes("28000000 1400 0506 07000000 00000000"),
            Attr(1, Str("ipv4: Address already assigned")),                   // NLMSGERR_ATTR_MSG
            Attr(2, U32(24)));                                                // NLMSGERR_ATTR_OFFS
        var e = Assert.Throws<NetlinkException>(() => new NetlinkExchange(Rtnl.AddAddress(2, IPAddress.Parse("10.0.0.1"), 24), Seq, Port).Take(capped));
        Assert.Equal("Error: ipv4: Address already assigned.", e.Message);
        Assert.Equal(("ipv4: Address already assigned", 17), (e.ExtendedMessage, e.Errno));

        // Without NETLINK_CAP_ACK the whole request is echoed first: the attributes follow it, aligned.
        var request = Rtnl.DeleteRoute(IPNetwork.Parse("10.8.0.0/16")).Encode(Seq);
        var uncapped = Msg(2, 0x200, Seq, U32(unchecked((uint)-3)), request, Attr(1, Str("no such route.")));
        var e2 = Assert.Throws<NetlinkException>(() => new NetlinkExchange(Rtnl.DeleteRoute(IPNetwork.Parse("10.8.0.0/16")), Seq, Port).Take(uncapped));
        Assert.Equal("Error: no such route.", e2.Message);
    }

    [Fact]
    public void ENODEV_for_a_link_named_in_the_request_is_iproute2s_Cannot_find_device()
    {
        var enodev = Msg(2, 0x100, Seq, U32(unchecked((uint)-19)), Bytes("2c000000 1100 0500 07000000 00000000"));

        var named = Assert.Throws<NetlinkException>(() => new NetlinkExchange(Rtnl.DeleteLink("veth-9"), Seq, Port).Take(enodev));
        Assert.Equal("Cannot find device \"veth-9\"", named.Message);

        var byIndex = Assert.Throws<NetlinkException>(() => new NetlinkExchange(Rtnl.DeleteLink(LinkRef.ByIndex(9)), Seq, Port).Take(enodev));
        Assert.Equal("RTNETLINK answers: No such device", byIndex.Message);
    }

    [Fact]
    public void A_dump_cut_short_says_why_in_its_DONE()
    {
        var exchange = new NetlinkExchange(Rtnl.DumpRoutes(), Seq, Port);

        var e = Assert.Throws<NetlinkException>(() => exchange.Take(Done(Seq, error: -16)));

        Assert.Equal("RTNETLINK answers: Device or resource busy", e.Message);
    }

    [Theory]
    [InlineData(17, null, null, "RTNETLINK answers: File exists")]
    [InlineData(19, null, "veth-1", "Cannot find device \"veth-1\"")]
    [InlineData(19, null, null, "RTNETLINK answers: No such device")]
    [InlineData(3, null, null, "RTNETLINK answers: No such process")]
    [InlineData(1, null, null, "RTNETLINK answers: Operation not permitted")]
    [InlineData(16, null, null, "RTNETLINK answers: Device or resource busy")]
    [InlineData(22, null, null, "RTNETLINK answers: Invalid argument")]
    [InlineData(95, null, null, "RTNETLINK answers: Operation not supported")]
    [InlineData(99, null, null, "RTNETLINK answers: Cannot assign requested address")]
    [InlineData(101, null, null, "RTNETLINK answers: Network is unreachable")]
    [InlineData(22, "Nexthop has invalid gateway", null, "Error: Nexthop has invalid gateway.")]
    [InlineData(17, "ipv6: address already assigned.", "veth-1", "Error: ipv6: address already assigned.")]
    [InlineData(19, "Unknown device", "veth-1", "Cannot find device \"veth-1\"")]
    public void Errno_to_iproute2s_text(int errno, string? extended, string? device, string text) =>
        Assert.Equal(text, Iproute2Errors.Text(errno, extended, device));

    [Fact]
    public void A_namespace_that_cannot_be_opened_reads_as_ip_n_says_it()
    {
        Assert.Equal("Cannot open network namespace \"lr-abc123-n1\": No such file or directory", Iproute2Errors.CannotOpenNamespace("lr-abc123-n1", 2));
    }

    [Fact]
    public void Lengths_that_do_not_fit_are_refused_not_guessed()
    {
        var tooLong = Bytes("ff000000 1000 0200 07000000 e1100000");
        Assert.Throws<NetlinkProtocolException>(() => NetlinkMessage.Split(tooLong));
        var tooShort = Bytes("08000000 1000 0200 07000000 e1100000");
        Assert.Throws<NetlinkProtocolException>(() => NetlinkMessage.Split(tooShort));
        Assert.Throws<NetlinkProtocolException>(() => NetlinkMessage.Split([.. Done(Seq), 1, 2, 3, 4]));
        Assert.Throws<NetlinkProtocolException>(() => NetlinkAttributes.Parse(Bytes("0900 0300 616263")));   // says 9, has 7
        Assert.Throws<NetlinkProtocolException>(() => NetlinkAttributes.Parse(Bytes("0200 0300")));          // shorter than its header
        Assert.Throws<NetlinkProtocolException>(() => NlLink.Parse(NetlinkMessage.Split(Msg(16, 2, Seq, IfInfo(3, 0)))[0])); // no name
        Assert.Throws<NetlinkProtocolException>(() => NlLink.Parse(NetlinkMessage.Split(Done(Seq))[0]));     // not a link
        Assert.Throws<NetlinkProtocolException>(() => NetlinkAttributes.Parse(Attr(4, 1, 2)).Get(4)!.Value.U32());
        Assert.Throws<NetlinkProtocolException>(() => new NetlinkExchange(Rtnl.DumpLinks(), Seq, Port).Take(Msg(4, 0, Seq)));  // NLMSG_OVERRUN
    }

    [Fact]
    public void Addresses_show_IFA_LOCAL_or_for_IPv6_IFA_ADDRESS_with_their_prefix()
    {
        var v4 = Msg(20, 2, Seq, [2, 24, 0x80, 0, .. U32(2)],     // AF_INET /24, IFA_F_PERMANENT, scope universe, ifindex 2
            Attr(1, 10, 0, 0, 1), Attr(2, 10, 0, 0, 1), Attr(3, Str("veth0")));
        var v6 = Msg(20, 2, Seq, [10, 64, 0x80, 253, .. U32(2)],  // AF_INET6 /64, scope link
            Attr(1, IPAddress.Parse("fe80::1").GetAddressBytes()), Attr(8, U32(0x80 | 0x40)));  // IFA_FLAGS: PERMANENT|TENTATIVE

        var exchange = new NetlinkExchange(Rtnl.DumpAddresses(), Seq, Port);
        exchange.Take([.. v4, .. v6, .. Done(Seq)]);
        var addresses = exchange.Messages.Select(NlAddress.Parse).ToList();

        Assert.Equal(new NlAddress(2, AddressFamily.InterNetwork, IPAddress.Parse("10.0.0.1"), 24, IPAddress.Parse("10.0.0.1"), 0, 0x80, "veth0"), addresses[0]);
        Assert.Equal("10.0.0.1/24", addresses[0].Cidr);
        Assert.Equal(new NlAddress(2, AddressFamily.InterNetworkV6, IPAddress.Parse("fe80::1"), 64, IPAddress.Parse("fe80::1"), 253, 0xc0, null), addresses[1]);
    }

    [Fact]
    public void Routes_give_destination_gateway_device_and_table()
    {
        var byDefault = Msg(24, 2, Seq, [2, 0, 0, 0, 254, 3, 0, 1, .. U32(0)],
            Attr(5, 10, 0, 0, 254), Attr(4, U32(2)));
        var inTable1000 = Msg(24, 2, Seq, [2, 24, 0, 0, 252, 2, 253, 1, .. U32(0)],   // rtm_table 252 (compat): RTA_TABLE says 1000
            Attr(15, U32(1000)), Attr(1, 10, 1, 0, 0), Attr(4, U32(3)), Attr(7, 10, 1, 0, 1), Attr(6, U32(100)));

        var exchange = new NetlinkExchange(Rtnl.DumpRoutes(), Seq, Port);
        exchange.Take([.. byDefault, .. inTable1000, .. Done(Seq)]);
        var routes = exchange.Messages.Select(NlRoute.Parse).ToList();

        Assert.Equal(new NlRoute(AddressFamily.InterNetwork, null, 0, IPAddress.Parse("10.0.0.254"), 2, 254, 3, 0, 1, null, null), routes[0]);
        Assert.Equal(("default", true), (routes[0].Display, routes[0].IsDefault));
        Assert.Equal(new NlRoute(AddressFamily.InterNetwork, IPAddress.Parse("10.1.0.0"), 24, null, 3, 1000, 2, 253, 1, IPAddress.Parse("10.1.0.1"), 100), routes[1]);
        Assert.Equal("10.1.0.0/24", routes[1].Display);
    }

    [Fact]
    public void Neighbours_give_address_link_address_and_state()
    {
        var reachable = Msg(28, 2, Seq, [2, 0, 0, 0, .. U32(2), 0x02, 0x00, 0, 1],   // AF_INET, ifindex 2, NUD_REACHABLE, flags 0, RTN_UNICAST
            Attr(1, 10, 0, 0, 2), Attr(2, 0x02, 0, 0, 0, 0, 0x02));
        var failed = Msg(28, 2, Seq, [2, 0, 0, 0, .. U32(2), 0x20, 0x00, 0, 1], Attr(1, 10, 0, 0, 3)); // NUD_FAILED, no lladdr

        var exchange = new NetlinkExchange(Rtnl.DumpNeighbours(), Seq, Port);
        exchange.Take([.. reachable, .. failed, .. Done(Seq)]);
        var entries = exchange.Messages.Select(NlNeighbour.Parse).ToList();

        Assert.Equal(new NlNeighbour(2, AddressFamily.InterNetwork, IPAddress.Parse("10.0.0.2"), "02:00:00:00:00:02", NeighbourState.Reachable, 0, 1), entries[0]);
        Assert.Equal((NeighbourState.Failed, (string?)null), (entries[1].State, entries[1].LinkAddress));
        Assert.Equal("REACHABLE", Iproute2Names.Of(entries[0].State));
        Assert.Equal("STALE PROBE", Iproute2Names.Of(NeighbourState.Stale | NeighbourState.Probe));
        Assert.Equal("NONE", Iproute2Names.Of(NeighbourState.None));
        Assert.Equal("LOWERLAYERDOWN", Iproute2Names.Of(OperState.LowerLayerDown));
    }
}
