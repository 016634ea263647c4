using System.Net;
using System.Net.Sockets;
using LabRunner.Platform.Netlink;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The requests of the netlink layer, byte for byte. Each expected message is written out from the uapi layouts
/// (struct nlmsghdr 16 bytes: len u32, type u16, flags u16, seq u32, pid u32; struct rtattr 4 bytes: len u16, type
/// u16, payload padded to 4; struct ifinfomsg 16, ifaddrmsg 8, rtmsg 12, ndmsg 12), little-endian, with sequence
/// number 1 and port id 0. Those sent by index are what iproute2 6.1 sends for the same `ip` command (captured with
/// strace in a private network namespace), but for the sequence number.
/// </summary>
public sealed class NetlinkEncodingSpecs
{
    /// <summary>Hex strings (spaces allowed) to bytes.</summary>
    internal static byte[] Bytes(params string[] hex) => Convert.FromHexString(string.Concat(hex).Replace(" ", ""));

    private static void Encodes(NetlinkRequest request, params string[] hex) =>
        Assert.Equal(Convert.ToHexString(Bytes(hex)), Convert.ToHexString(request.Encode(sequence: 1)));

    private const string Seq1Pid0 = "01000000 00000000";
    private const string IfInfoMsgZero = "00000000 00000000 00000000 00000000"; // family 0, pad, type 0, index 0, flags 0, change 0

    [Fact]
    public void A_veth_pair_is_its_name_and_a_linkinfo_nest_holding_the_peer_with_its_own_ifinfomsg()
    {
        Encodes(Rtnl.AddVeth("veth-1", "veth-2"),
            "5c000000",                  // nlmsg_len 92
            "1000 0506",                 // RTM_NEWLINK (16); NLM_F_REQUEST|ACK|EXCL|CREATE (0x605)
            Seq1Pid0,
            IfInfoMsgZero,
            "0b00 0300 76657468 2d3100 00", // IFLA_IFNAME (3), len 11: "veth-1\0", 1 byte of padding
            "3000 1200",                 // IFLA_LINKINFO (18), len 48
            "0800 0100 76657468",        //   IFLA_INFO_KIND (1), len 8: "veth" (no NUL, as iproute2 sends it)
            "2400 0200",                 //   IFLA_INFO_DATA (2), len 36
            "2000 0100",                 //     VETH_INFO_PEER (1), len 32
            IfInfoMsgZero,               //       the peer's struct ifinfomsg
            "0b00 0300 76657468 2d3200 00"); //     IFLA_IFNAME "veth-2\0" + 1 byte of padding
    }

    [Fact]
    public void A_veth_peer_put_in_another_namespace_carries_IFLA_NET_NS_FD_or_PID_inside_the_peer_nest()
    {
        Encodes(Rtnl.AddVeth("veth-1", "veth-2", NetnsRef.Fd(7)),
            "64000000 1000 0506", Seq1Pid0, IfInfoMsgZero,      // 100 bytes
            "0b00 0300 76657468 2d3100 00",
            "3800 1200",                  // IFLA_LINKINFO, len 56 (8 more than without)
            "0800 0100 76657468",
            "2c00 0200",                  //   IFLA_INFO_DATA, len 44
            "2800 0100",                  //     VETH_INFO_PEER, len 40
            IfInfoMsgZero,
            "0800 1c00 07000000",         //       IFLA_NET_NS_FD (28): fd 7
            "0b00 0300 76657468 2d3200 00");

        Encodes(Rtnl.AddVeth("veth-1", "veth-2", NetnsRef.Pid(4242)),
            "64000000 1000 0506", Seq1Pid0, IfInfoMsgZero,
            "0b00 0300 76657468 2d3100 00",
            "3800 1200", "0800 0100 76657468", "2c00 0200", "2800 0100", IfInfoMsgZero,
            "0800 1300 92100000",         //       IFLA_NET_NS_PID (19): pid 4242 (0x1092)
            "0b00 0300 76657468 2d3200 00");
    }

    [Fact]
    public void A_bridge_is_a_name_and_a_kind()
    {
        Encodes(Rtnl.AddBridge("br0"),
            "38000000 1000 0506", Seq1Pid0, IfInfoMsgZero,      // 56 bytes
            "0800 0300 62723000",         // IFLA_IFNAME "br0\0": exactly 8, no padding
            "1000 1200",                  // IFLA_LINKINFO, len 16
            "0a00 0100 627269646765 0000"); // IFLA_INFO_KIND, len 10: "bridge" + 2 bytes of padding, counted in the nest
    }

    [Fact]
    public void A_vxlan_pads_each_short_attribute_and_counts_the_padding_in_its_nests()
    {
        Encodes(Rtnl.AddVxlan("vx0", new VxlanSpec(42, 4789, Remote: IPAddress.Parse("10.0.0.2"), Local: IPAddress.Parse("10.0.0.1"), DeviceIndex: 3)),
            "6c000000 1000 0506", Seq1Pid0, IfInfoMsgZero,      // 108 bytes
            "0800 0300 76783000",         // IFLA_IFNAME "vx0\0"
            "4400 1200",                  // IFLA_LINKINFO, len 68 = 4 + 12 + 52
            "0900 0100 76786c616e 000000",//   IFLA_INFO_KIND, len 9: "vxlan" + 3 bytes of padding
            "3400 0200",                  //   IFLA_INFO_DATA, len 52 (its last attribute's padding included)
            "0800 0300 03000000",         //     IFLA_VXLAN_LINK (3): dev ifindex 3
            "0800 0100 2a000000",         //     IFLA_VXLAN_ID (1): 42
            "0800 0400 0a000001",         //     IFLA_VXLAN_LOCAL (4): 10.0.0.1
            "0800 0200 0a000002",         //     IFLA_VXLAN_GROUP (2): remote 10.0.0.2
            "0500 0700 01 000000",        //     IFLA_VXLAN_LEARNING (7), u8 1 + 3 bytes of padding
            "0600 0f00 12b5 0000");       //     IFLA_VXLAN_PORT (15), be16 4789 (0x12b5) + 2 bytes of padding
    }

    [Fact]
    public void A_vxlan_over_IPv6_uses_the_6_attributes_and_port_0_is_left_to_the_kernel()
    {
        Encodes(Rtnl.AddVxlan("vx0", new VxlanSpec(1, 0, Remote: IPAddress.Parse("fd00::2"))),
            "60000000 1000 0506", Seq1Pid0, IfInfoMsgZero,      // 96 bytes
            "0800 0300 76783000",
            "3800 1200",                  // IFLA_LINKINFO, len 56
            "0900 0100 76786c616e 000000",
            "2800 0200",                  //   IFLA_INFO_DATA, len 40: no LINK, no LOCAL, no PORT
            "0800 0100 01000000",         //     IFLA_VXLAN_ID 1
            "1400 1000 fd000000 00000000 00000000 00000002", // IFLA_VXLAN_GROUP6 (16), len 20: fd00::2
            "0500 0700 01 000000");       //     IFLA_VXLAN_LEARNING 1
    }

    [Fact]
    public void Up_and_down_are_IFF_UP_under_the_change_mask_and_a_name_goes_last_as_IFLA_IFNAME()
    {
        Encodes(Rtnl.SetUp("veth-1"),
            "2c000000",                   // 44 bytes
            "1000 0500",                  // RTM_NEWLINK (as `ip link set` sends it); NLM_F_REQUEST|ACK, no CREATE
            Seq1Pid0,
            "00 00 0000 00000000",        // family 0, pad, type 0, index 0: the kernel finds the link by IFLA_IFNAME
            "01000000 01000000",          // ifi_flags IFF_UP, ifi_change IFF_UP
            "0b00 0300 76657468 2d3100 00");

        Encodes(Rtnl.SetDown(LinkRef.ByIndex(2)),
            "20000000 1000 0500", Seq1Pid0,
            "00 00 0000 02000000",        // index 2
            "00000000 01000000");         // ifi_flags 0 under ifi_change IFF_UP: down

        Encodes(Rtnl.SetLink(LinkRef.ByIndex(2), new LinkSettings { Up = true }, NetlinkMessageType.SetLink),
            "20000000 1300 0500", Seq1Pid0, // RTM_SETLINK (19)
            "00 00 0000 02000000 01000000 01000000");
    }

    [Fact]
    public void Master_is_the_masters_ifindex_and_nomaster_is_zero()
    {
        Encodes(Rtnl.SetMaster(LinkRef.ByIndex(3), masterIndex: 4),
            "28000000 1000 0500", Seq1Pid0,
            "00 00 0000 03000000 00000000 00000000",
            "0800 0a00 04000000");        // IFLA_MASTER (10): 4

        Encodes(Rtnl.SetNoMaster("veth-1"),
            "34000000 1000 0500", Seq1Pid0, IfInfoMsgZero,
            "0800 0a00 00000000",         // IFLA_MASTER 0: nomaster
            "0b00 0300 76657468 2d3100 00");
    }

    [Fact]
    public void A_move_to_another_namespace_names_it_by_descriptor_or_by_process()
    {
        Encodes(Rtnl.MoveToNetns("veth-2", NetnsRef.Fd(9)),
            "34000000 1000 0500", Seq1Pid0, IfInfoMsgZero,
            "0800 1c00 09000000",         // IFLA_NET_NS_FD (28): 9
            "0b00 0300 76657468 2d3200 00");

        Encodes(Rtnl.MoveToNetns(LinkRef.ByIndex(2), NetnsRef.Pid(31875)),
            "28000000 1000 0500", Seq1Pid0, "00 00 0000 02000000 00000000 00000000",
            "0800 1300 837c0000");        // IFLA_NET_NS_PID (19): 31875 (0x7c83)
    }

    [Fact]
    public void Mtu_address_txqueuelen_and_alias_are_one_attribute_each_in_one_request()
    {
        Encodes(Rtnl.SetLink(LinkRef.ByIndex(2), new LinkSettings { Address = "02:00:00:00:00:02", Mtu = 1400, TxQueueLength = 500, Alias = "the peer" }),
            "48000000 1000 0500", Seq1Pid0,   // 72 bytes
            "00 00 0000 02000000 00000000 00000000",
            "0a00 0100 020000000002 0000",    // IFLA_ADDRESS (1), len 10: 6 bytes + 2 of padding
            "0800 0400 78050000",             // IFLA_MTU (4): 1400 (0x578)
            "0800 0d00 f4010000",             // IFLA_TXQLEN (13): 500 (0x1f4)
            "0c00 1400 7468652070656572");    // IFLA_IFALIAS (20), len 12: "the peer", no NUL (iproute2 sends strlen)

        Encodes(Rtnl.SetLink(LinkRef.ByIndex(2), new LinkSettings { Alias = "" }),
            "24000000 1000 0500", Seq1Pid0, "00 00 0000 02000000 00000000 00000000",
            "0400 1400");                     // IFLA_IFALIAS with no payload: the alias is cleared
    }

    [Fact]
    public void A_link_is_deleted_by_name_or_index_and_read_alone_without_statistics()
    {
        Encodes(Rtnl.DeleteLink("veth-1"),
            "2c000000 1100 0500", Seq1Pid0,   // RTM_DELLINK (17); REQUEST|ACK
            IfInfoMsgZero, "0b00 0300 76657468 2d3100 00");

        Encodes(Rtnl.DeleteLink(LinkRef.ByIndex(3)),
            "20000000 1100 0500", Seq1Pid0, "00 00 0000 03000000 00000000 00000000");

        Encodes(Rtnl.GetLink("br0"),
            "30000000 1200 0500", Seq1Pid0,   // RTM_GETLINK (18); REQUEST|ACK: one RTM_NEWLINK, then the ACK
            IfInfoMsgZero,
            "0800 1d00 08000000",             // IFLA_EXT_MASK (29): RTEXT_FILTER_SKIP_STATS (1 << 3)
            "0800 0300 62723000");
    }

    [Fact]
    public void An_address_is_IFA_LOCAL_and_IFA_ADDRESS_behind_an_ifaddrmsg()
    {
        Encodes(Rtnl.AddAddress(3, IPAddress.Parse("10.0.0.1"), 24),
            "28000000 1400 0506", Seq1Pid0,   // RTM_NEWADDR (20); REQUEST|ACK|EXCL|CREATE
            "02 18 00 00 03000000",           // AF_INET (2), prefixlen 24, flags 0, scope universe (0), ifindex 3
            "0800 0200 0a000001",             // IFA_LOCAL (2): 10.0.0.1
            "0800 0100 0a000001");            // IFA_ADDRESS (1): the same

        Encodes(Rtnl.AddAddress(3, IPAddress.Parse("fd00::1"), 64),
            "40000000 1400 0506", Seq1Pid0,
            "0a 40 00 00 03000000",           // AF_INET6 (10), prefixlen 64
            "1400 0200 fd000000 00000000 00000000 00000001",
            "1400 0100 fd000000 00000000 00000000 00000001");

        Encodes(Rtnl.AddAddress(1, IPAddress.Parse("127.0.0.2"), 8),
            "28000000 1400 0506", Seq1Pid0,
            "02 08 00 fe 01000000",           // 127.0.0.0/8: scope host (254), as iproute2's default_scope
            "0800 0200 7f000002", "0800 0100 7f000002");

        Encodes(Rtnl.DeleteAddress(3, IPAddress.Parse("10.0.0.1"), 24),
            "28000000 1500 0500", Seq1Pid0,   // RTM_DELADDR (21); REQUEST|ACK
            "02 18 00 00 03000000", "0800 0200 0a000001", "0800 0100 0a000001");
    }

    [Fact]
    public void A_route_is_an_rtmsg_for_the_main_table_with_its_destination_gateway_and_device()
    {
        Encodes(Rtnl.AddRoute(IPNetwork.Parse("10.9.0.0/16"), IPAddress.Parse("10.0.0.254")),
            "2c000000 1800 0506", Seq1Pid0,   // RTM_NEWROUTE (24); REQUEST|ACK|EXCL|CREATE
            "02 10 00 00",                    // AF_INET, dst_len 16, src_len 0, tos 0
            "fe 03 00 01",                    // table main (254), protocol boot (3), scope universe (0), type unicast (1)
            "00000000",                       // rtm_flags
            "0800 0100 0a090000",             // RTA_DST (1): 10.9.0.0
            "0800 0500 0a0000fe");            // RTA_GATEWAY (5): 10.0.0.254

        Encodes(Rtnl.AddRoute(null, IPAddress.Parse("10.0.0.254")),
            "24000000 1800 0506", Seq1Pid0,
            "02 00 00 00 fe 03 00 01 00000000", // default: dst_len 0 and no RTA_DST
            "0800 0500 0a0000fe");

        Encodes(Rtnl.AddRoute(IPNetwork.Parse("10.8.0.0/16"), outputIndex: 3),
            "2c000000 1800 0506", Seq1Pid0,
            "02 10 00 00 fe 03 fd 01 00000000", // no gateway: scope link (253)
            "0800 0100 0a080000",
            "0800 0400 03000000");            // RTA_OIF (4): 3

        Encodes(Rtnl.DeleteRoute(IPNetwork.Parse("10.8.0.0/16"), outputIndex: 3),
            "2c000000 1900 0500", Seq1Pid0,   // RTM_DELROUTE (25); REQUEST|ACK
            "02 10 00 00 fe 00 ff 00 00000000", // protocol 0, scope nowhere (255), type 0: the kernel matches any
            "0800 0100 0a080000", "0800 0400 03000000");

        Encodes(Rtnl.AddRoute(null, outputIndex: 2, family: AddressFamily.InterNetworkV6),
            "24000000 1800 0506", Seq1Pid0,
            "0a 00 00 00 fe 03 00 01 00000000", // IPv6: scope universe even without a gateway
            "0800 0400 02000000");
    }

    [Fact]
    public void Nodad_and_an_explicit_slash_0_are_sent_as_iproute2_sends_them()
    {
        // ip addr add fd00::1/64 dev v1 nodad (strace, iproute2 6.1): IFA_F_NODAD (0x02) in ifa_flags, no IFA_FLAGS.
        Encodes(Rtnl.AddAddress(3, IPAddress.Parse("fd00::1"), 64, "v1", noDad: true),
            "40000000 1400 0506", Seq1Pid0,
            "0a 40 02 00 03000000",           // AF_INET6, prefixlen 64, flags IFA_F_NODAD, scope universe, index 3
            "1400 0200 fd000000000000000000000000000001", "1400 0100 fd000000000000000000000000000001");

        // ip -6 route add ::/0 dev v1: dst_len 0, yet RTA_DST :: is sent (ip only leaves it out for "default").
        Encodes(Rtnl.AddRoute(IPNetwork.Parse("::/0"), outputIndex: 3),
            "38000000 1800 0506", Seq1Pid0,
            "0a 00 00 00 fe 03 00 01 00000000",
            "1400 0100 00000000000000000000000000000000",
            "0800 0400 03000000");
    }

    [Fact]
    public void Dumps_are_a_bare_family_header_with_NLM_F_DUMP_and_no_ACK()
    {
        Encodes(Rtnl.DumpLinks(),
            "28000000 1200 0103", Seq1Pid0,   // RTM_GETLINK; NLM_F_REQUEST|NLM_F_DUMP (0x300)
            IfInfoMsgZero, "0800 1d00 08000000");
        Encodes(Rtnl.DumpAddresses(),
            "18000000 1600 0103", Seq1Pid0, "00 00 00 00 00000000");   // RTM_GETADDR (22), ifaddrmsg family 0
        Encodes(Rtnl.DumpRoutes(AddressFamily.InterNetwork),
            "1c000000 1a00 0103", Seq1Pid0, "02 00 00 00 00 00 00 00 00000000"); // RTM_GETROUTE (26), AF_INET
        Encodes(Rtnl.DumpNeighbours(AddressFamily.InterNetworkV6),
            "1c000000 1e00 0103", Seq1Pid0, "0a 00 0000 00000000 0000 00 00"); // RTM_GETNEIGH (30), ndmsg AF_INET6

        Assert.True(Rtnl.DumpLinks().IsDump);
        Assert.False(Rtnl.GetLink("br0").IsDump);
        Assert.False(Rtnl.AddVeth("a", "b").IsDump); // CREATE|EXCL shares bits with DUMP, but it is no GET
    }

    [Fact]
    public void The_sequence_number_and_port_id_go_in_the_header()
    {
        var bytes = Rtnl.DeleteLink("x").Encode(sequence: 0x01020304, portId: 0x0a0b0c0d);

        Assert.Equal(Bytes("04030201 0d0c0b0a"), bytes[8..16]);
    }

    [Fact]
    public void Nested_attributes_are_aligned_at_every_depth_and_a_nest_counts_its_inner_padding()
    {
        var w = new NetlinkWriter();
        w.U8(1, 0xaa);                                 // 5 bytes → 8
        w.Nested(2, outer =>
        {
            outer.String(3, "ab");                     // 7 bytes → 8
            outer.Nested(4, inner => inner.Attribute(5, [1, 2, 3, 4, 5])); // 4 + (4 + 5 → 12) = 16
        });
        w.U32(6, 7);

        Assert.Equal(Convert.ToHexString(Bytes(
            "0500 0100 aa000000",
            "1c00 0200",                               // outer nest: 4 + 8 + 16 = 28
            "0700 0300 616200 00",
            "1000 0400",                               // inner nest: 16, its attribute's 3 bytes of padding included
            "0900 0500 0102030405 000000",
            "0800 0600 07000000")), Convert.ToHexString(w.ToArray()));
        Assert.Equal(0, w.Length % 4);

        // and read back: the same attributes, the nest's payload parsed as attributes
        var read = NetlinkAttributes.Parse(w.ToArray());
        Assert.Equal(new[] { 1, 2, 6 }, read.All.Select(a => (int)a.Type));
        var outerRead = read.Nested(2)!;
        Assert.Equal("ab", outerRead.String(3));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, outerRead.Nested(4)!.Get(5)!.Value.Payload.ToArray());
        Assert.Equal(7u, read.U32(6));
    }

    [Fact]
    public void Requests_refuse_what_the_kernel_would_refuse_or_misread()
    {
        Assert.Throws<ArgumentException>(() => Rtnl.AddVeth("a-name-of-16-chr", "b"));     // IFNAMSIZ 16 with the NUL
        Assert.Throws<ArgumentException>(() => Rtnl.AddBridge("br/0"));
        Assert.Throws<ArgumentException>(() => Rtnl.AddBridge("br 0"));
        Assert.Throws<ArgumentException>(() => Rtnl.AddBridge(""));
        Assert.Throws<ArgumentException>(() => Rtnl.SetLink("veth-1", new LinkSettings()));  // changes nothing
        Assert.Throws<ArgumentException>(() => Rtnl.SetLink("veth-1", new LinkSettings { Address = "02:00:00:00:00" }));
        Assert.Throws<ArgumentException>(() => Rtnl.SetLink("veth-1", new LinkSettings { Address = "02:00:00:00:00:zz" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rtnl.AddVxlan("vx0", new VxlanSpec(1 << 24, 4789)));
        Assert.Throws<ArgumentException>(() => Rtnl.AddVxlan("vx0", new VxlanSpec(1, 4789, IPAddress.Parse("fd00::1"), IPAddress.Parse("10.0.0.1"))));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rtnl.AddAddress(3, IPAddress.Parse("10.0.0.1"), 33));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rtnl.AddAddress(0, IPAddress.Parse("10.0.0.1"), 24));
        Assert.Throws<ArgumentException>(() => Rtnl.AddRoute(null, outputIndex: 2));             // default: which family?
        Assert.Throws<ArgumentException>(() => Rtnl.AddRoute(IPNetwork.Parse("10.0.0.0/8"), IPAddress.Parse("fd00::1")));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinkRef.ByIndex(0));
        Assert.Equal("a-name-of-15chr", LinkRef.ByName("a-name-of-15chr").Name);
    }
}
