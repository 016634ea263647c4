using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Kinds;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Platform.Netlink;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The netlink driver's translator (<see cref="IpCommand"/>): which ip argv it runs in-process, the requests it sends
/// for them (byte for byte those of <see cref="Rtnl"/>'s builders, which are iproute2's), and iproute2's exit codes and
/// texts for the failures it tells itself. Every ip argv the labs of this repository build is either translated or a
/// deliberate fallback listed here: a new kind's ip form fails the corpus spec until someone classifies it.
/// No socket is opened: the requests go to a fake channel.
/// </summary>
public sealed partial class IpCommandSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// The ip forms left to iproute2 on purpose (the words after <c>ip [-n NAME]</c> or <c>nsenter -t PID -n ip</c>):
    /// the JSON observations (parsed by the kinds from ip's own output), netns management (files and mounts, not
    /// rtnetlink), the link kinds Rtnl does not build, and the version probe.
    /// </summary>
    private static readonly Regex[] DeliberateFallbacks =
    [
        new(@"^(-[46] )?-j( -d)? (link|addr|route|neigh) "),  // ip -j …: the observations read ip's JSON
        new(@"^-[46] -j (route|neigh) show"),
        new(@"^netns (add|delete|list|exec) ?"),             // /var/run/netns, bind mounts: not rtnetlink
        new(@"^link add link \S+ name \S+ type vlan id \d+$"),
        new(@"^link add name \S+ link \S+ type (macvlan|ipvlan) mode \S+$"),
        new(@"^-br (link|addr) show$"),                        // --step's s: what a person reads
        new(@"^route show$"),
        new(@"^-V$"),
    ];

    [Fact]
    public async Task Every_ip_command_the_labs_build_is_translated_or_a_deliberate_fallback()
    {
        var argvs = await LabIpCommandsAsync();
        Assert.True(argvs.Count > 100, $"only {argvs.Count} ip commands found in the labs");

        var unclassified = new List<string>();
        var translated = 0;
        foreach (var argv in argvs)
        {
            if (IpCommand.Parse(argv) is { } command)
            {
                translated++;
                // Runs against the fake: at most one change sent, nothing thrown, and a fallback only for a netns word.
                var channel = new FakeChannel();
                var result = await command.Operation.RunAsync(channel, Ct);
                Assert.True(result is not null || argv.Contains("netns"), $"{argv.Display()} was handed back to ip at run time");
                Assert.True(channel.Sent.Count(r => r.Type != NetlinkMessageType.GetLink) <= 1, argv.Display());
                continue;
            }
            if (!DeliberateFallbacks.Any(f => f.IsMatch(IpWordsOf(argv)))) unclassified.Add(argv.Display());
        }

        Assert.True(unclassified.Count == 0,
            "ip commands neither translated by IpCommand nor listed in IpCommandSpecs.DeliberateFallbacks:\n" + string.Join("\n", unclassified.Distinct()));
        Assert.True(translated > argvs.Count / 2, $"only {translated} of {argvs.Count} translated");
    }

    [Theory]
    [MemberData(nameof(Translations))]
    public async Task A_translated_command_sends_what_the_Rtnl_builder_builds_for_it(string[] argv, NetlinkRequest[] expected)
    {
        var command = IpCommand.Parse(argv);
        Assert.NotNull(command);
        var channel = new FakeChannel();

        var result = await command.Operation.RunAsync(channel, Ct);

        Assert.Equal((0, ""), (result!.ExitCode, result.Stderr));
        if (expected.Length > 0) Assert.Equal("", result.Stdout);
        var changes = channel.Sent.Where(r => r.Type != NetlinkMessageType.GetLink).ToList();
        Assert.Equal(expected.Select(Hex), changes.Select(Hex));
        Assert.Equal(0, channel.OpenDescriptors); // a netns descriptor lives only while its request is sent
    }

    private static string Hex(NetlinkRequest r) => Convert.ToHexString(r.Encode(sequence: 1));

    public static TheoryData<string[], NetlinkRequest[]> Translations()
    {
        var n1 = NetnsRef.Fd(FakeChannel.NetnsFd);
        IPAddress Ip(string a) => IPAddress.Parse(a);
        LinkRef Index(string name) => LinkRef.ByIndex(FakeChannel.IndexOf(name));
        return new()
        {
            { ["ip", "-n", "lr-t", "link", "add", "name", "veth-1", "type", "veth", "peer", "name", "veth-2"], [Rtnl.AddVeth("veth-1", "veth-2")] },
            { ["ip", "-n", "lr-t", "link", "add", "name", "ens3", "type", "veth", "peer", "name", "wan0", "netns", "lr-t_wan"], [Rtnl.AddVeth("ens3", "wan0", n1)] },
            { ["ip", "link", "add", "name", "veth-c1", "type", "veth", "peer", "name", "eth0", "netns", "4343"], [Rtnl.AddVeth("veth-c1", "eth0", NetnsRef.Pid(4343))] },
            { ["ip", "-n", "lr-t", "link", "add", "name", "br-0", "type", "bridge"], [Rtnl.AddBridge("br-0")] },
            {
                ["nsenter", "-t", "4242", "-n", "ip", "link", "add", "name", "vx0", "type", "vxlan", "id", "42", "remote", "10.0.0.2", "local", "10.0.0.1", "dev", "eth0", "dstport", "4789"],
                [Rtnl.AddVxlan("vx0", new VxlanSpec(42, 4789, Ip("10.0.0.2"), Ip("10.0.0.1"), FakeChannel.IndexOf("eth0")))]
            },
            { ["ip", "link", "add", "name", "vx1", "type", "vxlan", "id", "7", "dstport", "8472"], [Rtnl.AddVxlan("vx1", new VxlanSpec(7, 8472))] },
            { ["ip", "-n", "lr-t", "link", "set", "dev", "veth-1", "up"], [Rtnl.SetUp(Index("veth-1"))] },
            { ["ip", "-n", "lr-t", "link", "set", "lo", "up"], [Rtnl.SetUp(Index("lo"))] },
            { ["ip", "link", "set", "dev", "veth-1", "down"], [Rtnl.SetDown(Index("veth-1"))] },
            { ["ip", "-n", "lr-t", "link", "set", "dev", "veth-1", "master", "br-0"], [Rtnl.SetMaster(Index("veth-1"), FakeChannel.IndexOf("br-0"))] },
            { ["ip", "-n", "lr-t", "link", "set", "dev", "veth-1", "nomaster"], [Rtnl.SetNoMaster(Index("veth-1"))] },
            { ["ip", "-n", "lr-t", "link", "set", "dev", "veth-2", "up", "netns", "lr-t-n1"], [Rtnl.SetLink(Index("veth-2"), new LinkSettings { Up = true, Netns = n1 })] },
            { ["ip", "-n", "lr-t", "link", "set", "dev", "veth-2", "netns", "4343"], [Rtnl.MoveToNetns(Index("veth-2"), NetnsRef.Pid(4343))] },
            {
                ["ip", "link", "set", "dev", "veth-1", "mtu", "1400", "address", "02:00:00:00:00:01", "txqueuelen", "500", "alias", "a small one"],
                [Rtnl.SetLink(Index("veth-1"), new LinkSettings { Mtu = 1400, Address = "02:00:00:00:00:01", TxQueueLength = 500, Alias = "a small one" })]
            },
            { ["ip", "link", "set", "dev", "veth-1", "alias", ""], [Rtnl.SetLink(Index("veth-1"), new LinkSettings { Alias = "" })] },
            { ["ip", "-n", "lr-t", "link", "delete", "dev", "veth-1"], [Rtnl.DeleteLink(Index("veth-1"))] },
            { ["ip", "-n", "lr-t", "addr", "add", "172.16.100.1/24", "dev", "br-0"], [Rtnl.AddAddress(FakeChannel.IndexOf("br-0"), Ip("172.16.100.1"), 24, "br-0")] },
            { ["ip", "addr", "add", "fd00:100::1/64", "dev", "veth-2", "nodad"], [Rtnl.AddAddress(FakeChannel.IndexOf("veth-2"), Ip("fd00:100::1"), 64, "veth-2", noDad: true)] },
            { ["ip", "addr", "del", "172.16.100.1/24", "dev", "br-0"], [Rtnl.DeleteAddress(FakeChannel.IndexOf("br-0"), Ip("172.16.100.1"), 24, "br-0")] },
            { ["ip", "route", "add", "default", "dev", "veth-2"], [Rtnl.AddRoute(null, null, FakeChannel.IndexOf("veth-2"), AddressFamily.InterNetwork, "veth-2")] },
            { ["ip", "route", "del", "default", "dev", "veth-2"], [Rtnl.DeleteRoute(null, null, FakeChannel.IndexOf("veth-2"), AddressFamily.InterNetwork, "veth-2")] },
            { ["ip", "route", "add", "default", "via", "10.244.1.1"], [Rtnl.AddRoute(null, Ip("10.244.1.1"))] },
            { ["ip", "-n", "lr-t", "route", "add", "10.244.2.0/24", "via", "192.168.64.7"], [Rtnl.AddRoute(IPNetwork.Parse("10.244.2.0/24"), Ip("192.168.64.7"))] },
            { ["ip", "-6", "route", "add", "default", "via", "fd00:100::1", "dev", "veth-2"], [Rtnl.AddRoute(null, Ip("fd00:100::1"), FakeChannel.IndexOf("veth-2"), device: "veth-2")] },
            { ["ip", "-6", "route", "add", "::/0", "dev", "veth-2"], [Rtnl.AddRoute(IPNetwork.Parse("::/0"), null, FakeChannel.IndexOf("veth-2"), device: "veth-2")] },
            { ["ip", "-6", "route", "del", "fd00:200::/64", "via", "fd00:100::1"], [Rtnl.DeleteRoute(IPNetwork.Parse("fd00:200::/64"), Ip("fd00:100::1"))] },
            // Read-only: the lookups and dumps only.
            { ["ip", "-n", "lr-t", "link", "show", "dev", "veth-1"], [] },
            { ["ip", "-o", "addr", "show", "dev", "veth-2", "to", "172.16.100.101/24"], [] },
            { ["ip", "route", "show", "default", "dev", "veth-2"], [] },
        };
    }

    [Theory]
    [InlineData("ip link add veth-1 type veth peer name veth-2")]               // no "name": not a form the kinds build
    [InlineData("ip link add name veth-1 type veth peer name veth-2 mtu 1400")] // a peer option it does not know
    [InlineData("ip link add name mv0 link eth0 type macvlan mode bridge")]
    [InlineData("ip link set dev veth-1 up promisc on")]
    [InlineData("ip link set dev veth-1 up up")]                                 // a word twice
    [InlineData("ip link set dev veth-1 alias x mtu 1400")]                      // ip stops reading at alias
    [InlineData("ip link set dev veth-1 master br-0 nomaster")]
    [InlineData("ip link set dev veth-1 mtu 0x500")]                             // another base: get_integer's business
    [InlineData("ip link set dev veth-1 address 2:0:0:0:0:1")]                   // ll_addr_a2n reads it; we do not guess
    [InlineData("ip link set dev if5 up")]                                       // an unknown ifN is ifindex N to ip
    [InlineData("ip link set m up")]                                             // matches("m", "master"): a keyword to ip
    [InlineData("ip link set dev veth-1")]
    [InlineData("ip link del dev veth-1")]                                       // an abbreviation
    [InlineData("ip l set dev veth-1 up")]
    [InlineData("ip addr add 10.0.0.1 dev veth-1")]                              // no prefix length
    [InlineData("ip addr add 10.0.0.1/24 dev veth-1 label veth-1:0")]
    [InlineData("ip address add 10.0.0.1/24 dev veth-1")]
    [InlineData("ip route add 10.0.0.1/24 dev veth-1")]                          // host bits: the kernel's error, ip's text
    [InlineData("ip route add 10.0.0.0/24")]                                     // neither via nor dev
    [InlineData("ip route add 10.0.0.0/24 dev veth-1 metric 10")]
    [InlineData("ip route add fd00::/64 via 10.0.0.1")]                          // families mixed
    [InlineData("ip route show fd00::/64 dev veth-1")]                           // IPv6 without -6: ip reads IPv4
    [InlineData("ip -4 route add default dev veth-1")]
    [InlineData("ip -n ../etc link set dev veth-1 up")]
    [InlineData("ip -n /proc/1/ns/net link set dev veth-1 up")]
    [InlineData("nsenter -t 0042 -n ip link set dev veth-1 up")]
    [InlineData("nsenter -t 42 -n -u ip link set dev veth-1 up")]
    [InlineData("ip -j -d addr show")]                                           // TopologyReader's: every field, left to ip
    [InlineData("ip -j neigh show")]
    [InlineData("ip -j link show dev veth-1")]                                   // without -d: not a form the kinds build
    [InlineData("ip -j neigh show to 10.0.0.0/24")]
    [InlineData("ip -j neigh show to fd00::1")]                                  // IPv6 without -6
    [InlineData("ip -j route get 10.0.0.1")]
    [InlineData("ip netns add n1")]
    [InlineData("sysctl -w net.ipv4.ip_forward=1")]
    public void Anything_else_falls_back_to_iproute2(string command) =>
        Assert.Null(IpCommand.Parse(command.Split(' ')));

    [Fact]
    public void The_three_NetTarget_forms_name_their_namespace()
    {
        Assert.Equal(CallerNamespace.Instance, IpCommand.Parse(new CallerTarget("host").Ip("link", "set", "dev", "x", "up"))!.Where);
        Assert.Equal(new NamedNamespace("lr-t-n1"), IpCommand.Parse(new NamedNetnsTarget("n1", "lr-t-n1").Ip("link", "set", "dev", "x", "up"))!.Where);
        Assert.Equal(new ProcessNamespace(4242), IpCommand.Parse(new PidTarget("c1", "4242").Ip("link", "set", "dev", "x", "up"))!.Where);
        Assert.Equal("/var/run/netns/lr-t-n1", new NamedNamespace("lr-t-n1").Path);
        Assert.Equal("/proc/4242/ns/net", new ProcessNamespace(4242).Path);
    }

    // ---- what ip says when it fails ----

    [Theory]
    [InlineData("ip link set dev nosuch up", 1, "Cannot find device \"nosuch\"\n")]
    [InlineData("ip link set lo up", 0, "")]
    [InlineData("ip link delete dev nosuch", 1, "Cannot find device \"nosuch\"\n")]
    [InlineData("ip link set dev nosuch master br-0", 1, "Cannot find device \"nosuch\"\n")]
    [InlineData("ip link set dev veth-1 master nosuch", 255, "Error: argument \"nosuch\" is wrong: Device does not exist\n\n")]
    [InlineData("ip link set dev nosuch master nosuch", 255, "Error: argument \"nosuch\" is wrong: Device does not exist\n\n")] // parse first
    [InlineData("ip link set dev veth-1 netns nope", 255, "Error: argument \"nope\" is wrong: Invalid \"netns\" value\n\n")]
    [InlineData("ip link add name veth-1 type veth peer name veth-2 netns nope", 255, "Error: argument \"nope\" is wrong: Invalid \"netns\" value\n\n")]
    [InlineData("ip link add name vx0 type vxlan id 42 dev nosuch dstport 4789", 255, "Cannot find device \"nosuch\"\n")] // vxlan: exit(nodev())
    [InlineData("ip addr add 10.0.0.1/24 dev nosuch", 1, "Cannot find device \"nosuch\"\n")]
    [InlineData("ip route add default dev nosuch", 1, "Cannot find device \"nosuch\"\n")]
    [InlineData("ip link show dev nosuch", 1, "Device \"nosuch\" does not exist.\n")]
    [InlineData("ip -o addr show dev nosuch to 10.0.0.1/24", 1, "Device \"nosuch\" does not exist.\n")]
    [InlineData("ip route show default dev nosuch", 1, "Cannot find device \"nosuch\"\n")]
    public async Task Names_are_resolved_first_with_ips_words_and_exit_codes(string command, int exitCode, string stderr)
    {
        var channel = new FakeChannel { Missing = { "nosuch" }, NetnsFiles = { "lr-t-n1" } };

        var result = await IpCommand.Parse(command.Split(' '))!.Operation.RunAsync(channel, Ct);

        Assert.Equal((exitCode, stderr), (result!.ExitCode, result.Stderr));
        if (exitCode != 0) Assert.DoesNotContain(channel.Sent, r => r.Type != NetlinkMessageType.GetLink); // nothing changed
    }

    [Fact]
    public async Task A_refusal_is_rtnetlinks_text_with_exit_2_and_the_kernels_own_message_when_it_gives_one()
    {
        var exists = new FakeChannel { Refusal = new NetlinkException(Iproute2Errors.EEXIST, Iproute2Errors.Text(Iproute2Errors.EEXIST)) };
        var result = await IpCommand.Parse("ip link add name veth-3 type veth peer name veth-1".Split(' '))!.Operation.RunAsync(exists, Ct);
        Assert.Equal(new IpResult(2, "", "RTNETLINK answers: File exists\n"), result);

        var extack = new FakeChannel { Refusal = new NetlinkException(Iproute2Errors.EEXIST, Iproute2Errors.Text(Iproute2Errors.EEXIST, "ipv4: Address already assigned"), "ipv4: Address already assigned") };
        result = await IpCommand.Parse("ip addr add 10.0.0.1/24 dev veth-1".Split(' '))!.Operation.RunAsync(extack, Ct);
        Assert.Equal(new IpResult(2, "", "Error: ipv4: Address already assigned.\n"), result);

        var gone = new FakeChannel { Refusal = new NetlinkException(Iproute2Errors.ESRCH, Iproute2Errors.Text(Iproute2Errors.ESRCH)) };
        result = await IpCommand.Parse("ip route del default dev veth-2".Split(' '))!.Operation.RunAsync(gone, Ct);
        Assert.Equal(new IpResult(2, "", "RTNETLINK answers: No such process\n"), result);   // RouteAdd's undo tolerates it
    }

    [Fact]
    public async Task The_json_observations_print_ips_fields_from_the_dumps()
    {
        const InterfaceFlags Ether = InterfaceFlags.Broadcast | InterfaceFlags.Multicast;
        var channel = new FakeChannel();
        channel.LinkList.AddRange(
        [
            new NlLink(1, "lo", InterfaceFlags.Loopback | InterfaceFlags.Up | InterfaceFlags.Running | InterfaceFlags.LowerUp, OperState.Unknown, 65536, "00:00:00:00:00:00", null, null, null, null, null, null, 1000),
            new NlLink(2, "veth-1", Ether | InterfaceFlags.Up, OperState.LowerLayerDown, 1500, "02:00:00:00:00:01", 4, 3, null, "veth", "bridge", null, 1000),
            new NlLink(3, "veth-2", Ether, OperState.Down, 1400, "02:00:00:00:00:02", null, 2, null, "veth", null, "spare end", 500),
            new NlLink(4, "br-0", Ether | InterfaceFlags.Up | InterfaceFlags.Running | InterfaceFlags.LowerUp, OperState.Up, 1500, "02:00:00:00:00:01", null, null, null, "bridge", null, null, 1000),
            new NlLink(5, "veth-3", Ether | InterfaceFlags.Up | InterfaceFlags.Running | InterfaceFlags.LowerUp, OperState.Up, 1500, "02:00:00:00:00:03", null, 7, 0, "veth", null, null, 1000),
        ]);
        channel.Neighbours.AddRange(
        [
            new NlNeighbour(4, AddressFamily.InterNetwork, IPAddress.Parse("10.0.0.2"), "02:00:00:00:00:22", NeighbourState.Permanent, 0, 1),
            new NlNeighbour(4, AddressFamily.InterNetwork, IPAddress.Parse("10.0.0.2"), "02:00:00:00:00:23", NeighbourState.NoArp, 0, 1),  // not shown by default
            new NlNeighbour(4, AddressFamily.InterNetwork, IPAddress.Parse("10.0.0.3"), null, NeighbourState.Failed, 0, 1),
            new NlNeighbour(4, AddressFamily.InterNetwork, IPAddress.Parse("10.0.0.3"), null, NeighbourState.None, 0, 1),               // not shown by default
        ]);
        channel.Missing.Add("veth-9"); // nor by an alternative name
        channel.Routes.Add(new NlRoute(AddressFamily.InterNetwork, null, 0, IPAddress.Parse("10.0.0.254"), 4, 254, 3, 0, 1, null, null));
        channel.Routes.Add(new NlRoute(AddressFamily.InterNetwork, IPAddress.Parse("10.0.0.1"), 32, null, 4, 255, 2, 254, 2, null, null)); // local table
        channel.Routes.Add(new NlRoute(AddressFamily.InterNetwork, IPAddress.Parse("10.9.1.1"), 32, null, 9, 254, 3, 253, 1, null, null));
        channel.Addresses.Add(new NlAddress(4, AddressFamily.InterNetworkV6, IPAddress.Parse("fd00::1"), 64, IPAddress.Parse("fd00::1"), 0, 0x40, null));
        async Task<IpResult> Run(string command) => (await IpCommand.Parse(command.Split(' '))!.Operation.RunAsync(channel, Ct))!;
        async Task<System.Text.Json.Nodes.JsonArray> Json(string command) => System.Text.Json.Nodes.JsonNode.Parse((await Run(command)).Stdout)!.AsArray();

        // A same-namespace peer is named, and M-DOWN follows the flags when it is down; the master by name; -d's kinds.
        Assert.Equal("""[{"ifindex":2,"link":"veth-2","ifname":"veth-1","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP","M-DOWN"],"mtu":1500,"master":"br-0","operstate":"LOWERLAYERDOWN","txqlen":1000,"address":"02:00:00:00:00:01","linkinfo":{"info_kind":"veth","info_slave_kind":"bridge"}}]""" + "\n",
            (await Run("ip -j -d link show dev veth-1")).Stdout);
        // A peer in another namespace: its index and the netns id, no name, no M-DOWN; the alias (with a space).
        Assert.Equal("""{"ifindex":5,"link_index":7,"ifname":"veth-3","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","txqlen":1000,"address":"02:00:00:00:00:03","link_netnsid":0}""",
            (await Json("ip -j link show"))[4]!.ToJsonString());
        Assert.Equal("spare end", (await Json("ip -j link show"))[2]!["ifalias"]!.GetValue<string>());
        Assert.Equal(["veth-1"], (await Json("ip -j link show master br-0")).Select(l => l!["ifname"]!.GetValue<string>()));
        Assert.Equal(new IpResult(1, "", "Device \"veth-9\" does not exist.\n"), await Run("ip -j -d link show dev veth-9"));
        Assert.Equal(new IpResult(255, "", "Error: argument \"br-9\" is wrong: Device does not exist\n\n"), await Run("ip -j link show master br-9"));
        Assert.Equal(new IpResult(1, "", "Device \"veth-9\" does not exist.\n"), await Run("ip -j addr show dev veth-9"));
        // addr: the link's fields without the alias, and each address with its flags.
        var br = (await Json("ip -j addr show dev br-0"))[0]!;
        Assert.Equal("""[{"family":"inet6","local":"fd00::1","prefixlen":64,"scope":"global","tentative":true}]""", br["addr_info"]!.ToJsonString());
        // neigh: what ip shows by default (not NOARP, not NONE), without lladdr when there is none.
        Assert.Equal("""[{"dst":"10.0.0.2","dev":"br-0","lladdr":"02:00:00:00:00:22","state":["PERMANENT"]}]""" + "\n", (await Run("ip -j neigh show to 10.0.0.2")).Stdout);
        Assert.Equal("""[{"dst":"10.0.0.3","dev":"br-0","state":["FAILED"]}]""" + "\n", (await Run("ip -j neigh show to 10.0.0.3")).Stdout);
        // route: the main table only; a host route without /32; an unknown device as ifN.
        Assert.Equal("""[{"dst":"default","gateway":"10.0.0.254","dev":"br-0"},{"dst":"10.9.1.1","dev":"if9"}]""" + "\n", (await Run("ip -j route show")).Stdout);
    }

    [Theory]
    [InlineData("kill -KILL 12 34", "Kill")]
    [InlineData("ip netns delete lr-5c0001", "NetnsDelete")]
    [InlineData("kill -9 12", null)]                  // another spelling: kill's own
    [InlineData("kill -KILL -12", null)]              // a process group
    [InlineData("kill -KILL 0012", null)]
    [InlineData("kill -KILL", null)]
    [InlineData("ip netns delete -all", null)]
    [InlineData("ip netns del lr-5c0001", null)]
    [InlineData("ip netns delete ../etc", null)]
    [InlineData("ip -n lr-5c0001 netns delete x", null)]
    public void Teardowns_kill_and_netns_delete_are_run_in_process_only_in_their_exact_forms(string command, string? kind) =>
        Assert.Equal(kind, HostCommand.Parse(command.Split(' '))?.GetType().Name);

    [Fact]
    public void ENODEV_for_a_named_device_is_nodevs_exit_1_and_any_other_refusal_exit_2()
    {
        Assert.Equal(new IpResult(1, "", "Cannot find device \"veth-9\"\n"),
            IpResult.Refused(new NetlinkException(Iproute2Errors.ENODEV, Iproute2Errors.Text(Iproute2Errors.ENODEV, null, "veth-9"))));
        Assert.Equal(new IpResult(2, "", "RTNETLINK answers: No such device\n"),
            IpResult.Refused(new NetlinkException(Iproute2Errors.ENODEV, Iproute2Errors.Text(Iproute2Errors.ENODEV))));
        Assert.Equal(2, IpResult.Refused(new NetlinkException(Iproute2Errors.EBUSY, Iproute2Errors.Text(Iproute2Errors.EBUSY))).ExitCode);
    }

    [Fact]
    public async Task The_teardown_checks_print_a_line_when_the_thing_is_there_and_nothing_when_it_is_gone()
    {
        var channel = new FakeChannel
        {
            Addresses = { new NlAddress(FakeChannel.IndexOf("veth-2"), AddressFamily.InterNetwork, IPAddress.Parse("172.16.100.101"), 24, IPAddress.Parse("172.16.100.101"), 0, 0, "veth-2") },
            Routes = { new NlRoute(AddressFamily.InterNetwork, null, 0, null, FakeChannel.IndexOf("veth-2"), RouteConstants.TableMain, 3, RouteConstants.ScopeLink, 1, null, null) },
        };
        async Task<IpResult> Run(string command) => (await IpCommand.Parse(command.Split(' '))!.Operation.RunAsync(channel, Ct))!;

        Assert.Matches(@"^\d+: veth-1: <[A-Z_,-]*> mtu 1500 state DOWN\n$", (await Run("ip link show dev veth-1")).Stdout);
        Assert.Equal($"{FakeChannel.IndexOf("veth-2")}: veth-2    inet 172.16.100.101/24 scope global\n", (await Run("ip -o addr show dev veth-2 to 172.16.100.101/24")).Stdout);
        Assert.NotEmpty((await Run("ip -o addr show dev veth-2 to 172.16.100.7/24")).Stdout);  // ip's "to": within the prefix
        Assert.Equal(new IpResult(0, "", ""), await Run("ip -o addr show dev veth-2 to 172.16.101.1/24"));
        Assert.Equal(new IpResult(0, "", ""), await Run("ip -o addr show dev veth-1 to 172.16.100.101/24"));
        Assert.Equal("default dev veth-2 proto boot scope link\n", (await Run("ip route show default dev veth-2")).Stdout);
        Assert.Equal(new IpResult(0, "", ""), await Run("ip route show default dev veth-1"));
        Assert.Equal(new IpResult(0, "", ""), await Run("ip route show default via 10.0.0.1"));
        Assert.Equal(new IpResult(0, "", ""), await Run("ip route show 10.0.0.0/24 dev veth-2"));
        Assert.Equal(new IpResult(0, "", ""), await Run("ip -6 route show default dev veth-2"));
    }

    // ---- the runner ----

    [Fact]
    public async Task The_runner_hands_what_it_does_not_know_to_the_real_runner_unchanged_and_reports_its_own_with_the_same_argv()
    {
        var inner = new Recording();
        var events = new List<CommandEvent>();
        var runner = new NetlinkCommandRunner(inner, events.Add);

        await runner.RunAsync(["ip", "-j", "-d", "addr", "show"], CommandPurpose.Check, Ct);
        await runner.RunAsync(["sysctl", "-n", "net.ipv4.ip_forward"], CommandPurpose.Check, Ct);
        // A namespace that cannot be opened: told in ip's or nsenter's words, no process, no socket anywhere.
        var named = await runner.RunAsync(["ip", "-n", "lr-netlink-spec-nosuch", "link", "set", "dev", "x", "up"], CommandPurpose.Action, Ct);
        var pid = await runner.RunAsync(["nsenter", "-t", "2147483647", "-n", "ip", "link", "delete", "dev", "x"], CommandPurpose.Teardown, Ct);

        Assert.Equal(["ip -j -d addr show", "sysctl -n net.ipv4.ip_forward"], inner.Ran);
        Assert.Equal((255, "Cannot open network namespace \"lr-netlink-spec-nosuch\": No such file or directory\n"), (named.ExitCode, named.Stderr));
        Assert.Equal((1, "nsenter: cannot open /proc/2147483647/ns/net: No such file or directory\n"), (pid.ExitCode, pid.Stderr));
        Assert.Contains(GoneErrors.Namespace, g => named.Output.Contains(g, StringComparison.Ordinal));   // teardown: already gone
        Assert.Contains(GoneErrors.Namespace, g => pid.Output.Contains(g, StringComparison.Ordinal));
        Assert.Equal(
            [("ip -n lr-netlink-spec-nosuch link set dev x up", CommandPurpose.Action, "netlink"), ("nsenter -t 2147483647 -n ip link delete dev x", CommandPurpose.Teardown, "netlink")],
            events.Select(e => (e.Display, e.Purpose, e.Driver!)));
    }

    [Fact]
    public async Task A_dry_run_is_never_translated()
    {
        var events = new List<CommandEvent>();
        var runner = CommandDrivers.Create(CommandDrivers.Netlink, new DryRunCommandRunner(events.Add), events.Add);

        await runner.RunAsync(["ip", "-n", "lr-netlink-spec-nosuch", "link", "set", "dev", "x", "up"], CommandPurpose.Action, Ct);

        Assert.IsType<DryRunCommandRunner>(runner);
        Assert.Null(Assert.Single(events).Driver);
    }

    [Fact]
    public void The_driver_is_netlink_unless_iproute2_is_asked_and_an_unknown_one_lists_both()
    {
        var real = new Recording();
        Assert.IsType<NetlinkCommandRunner>(CommandDrivers.Create("netlink", real, null));
        Assert.Same(real, CommandDrivers.Create("iproute2", real, null));
        var e = Assert.Throws<ArgumentException>(() => CommandDrivers.Create("ebpf", real, null));
        Assert.Contains("use netlink or iproute2", e.Message);
        Assert.Equal("netlink", CommandDrivers.Default);
        Assert.Equal("LABRUNNER_DRIVER=x is not a driver: use netlink or iproute2", CommandDrivers.Unknown("LABRUNNER_DRIVER=x"));
    }

    // ---- helpers ----

    /// <summary>Every ip argv of every YAML lab's plan (and the article's on the host), with the teardown checks the kinds journal.</summary>
    private static async Task<List<string[]>> LabIpCommandsAsync()
    {
        var argvs = new List<string[]>();
        void Add(IEnumerable<string> argv)
        {
            var words = argv.Select(Realistic).ToArray();
            if (words is ["ip", ..] or ["nsenter", "-t", _, "-n", "ip", ..]) argvs.Add(words);
        }
        var labs = Directory.EnumerateFiles(Path.Combine(Repo.Root, "scenarios"), "*.yaml", SearchOption.AllDirectories).Order().ToList();
        foreach (var (lab, sandbox) in labs.Select(l => (l, true)).Append((Repo.Article("article.yaml"), false)))
        {
            using var state = new TempDirectory();
            var plan = await Plan.MakeAsync(ScenarioLoader.LoadFile(lab), state.Path, Ct, sandbox);
            foreach (var c in plan.Commands) Add(c.Argv);
        }
        // What teardown runs to see that something is gone (not in a plan: a dry run checks nothing).
        foreach (var undo in await JournalledUndosAsync())
            if (undo.Verify is { Kind: VerificationKind.Absent } v) Add(v.Argv);
        return argvs;
    }

    /// <summary>The undo records the kinds journal, in a sandbox and with --host (the three NetTarget forms' shapes).</summary>
    private static async Task<List<UndoCommand>> JournalledUndosAsync()
    {
        var undos = new List<UndoCommand>();
        LabAction[] actions =
        [
            new AddressAdd("veth-2", "172.16.100.101/24", Place.Host), new AddressAdd("veth-2", "fd00:100::2/64", Place.Host),
            new RouteAdd("default", "veth-2", null, Place.Host), new RouteAdd("default", null, "10.0.0.1", Place.Host),
            new RouteAdd("10.0.2.0/24", "veth-2", "10.0.0.1", Place.Host), new RouteAdd("fd00:200::/64", null, "fd00:100::1", Place.Host),
            new RouteAdd("::/0", "veth-2", null, Place.Host), new BridgeAdd("br-0", Place.Host),
        ];
        foreach (var sandbox in new[] { true, false })
        {
            var journal = LabJournal.InMemory(new JournalHeader("test01", 1, 1, "lab.yaml", sandbox, DateTimeOffset.UtcNow));
            var session = new LabSession("test01", sandbox, Uplink.Default);
            var runner = new DryRunCommandRunner();
            foreach (var action in actions)
                await action.RunAsync(new ActionContext(session, journal, runner, new ProcessRuntime(runner), mustFail: false), Ct);
            undos.AddRange(journal.PendingNewestFirst().OfType<UndoCommand>());
        }
        return undos;
    }

    /// <summary>A plan's placeholders as a run has them: a container's PID, the old values link-set reads.</summary>
    private static string Realistic(string word) => word switch
    {
        _ when PidPlaceholder().IsMatch(word) => "4242",
        "<old mtu>" => "1500",
        "<old address>" => "02:00:00:00:00:09",
        "<old txqueuelen>" => "1000",
        "<old alias>" => "",
        _ => word,
    };

    /// <summary>The words after <c>ip [-n NAME]</c> or <c>nsenter -t PID -n ip</c>.</summary>
    private static string IpWordsOf(string[] argv) => string.Join(' ', argv switch
    {
        ["nsenter", "-t", _, "-n", "ip", .. var rest] => rest,
        ["ip", "-n", _, .. var rest] => rest,
        [_, .. var rest] => rest,
        _ => [],
    });

    [GeneratedRegex(@"^<[^>]+\.pid>$")]
    private static partial Regex PidPlaceholder();

    /// <summary>
    /// A namespace of links that all exist (but those in <see cref="Missing"/>), each with a fixed index; netns names
    /// open (those in <see cref="NetnsFiles"/>, or any non-numeric one when that set is empty) to descriptor 7.
    /// </summary>
    private sealed class FakeChannel : IRtnlChannel
    {
        public const int NetnsFd = 7;
        private static readonly string[] Known = ["lo", "veth-1", "veth-2", "br-0", "eth0", "ens3", "wan0"];

        public static int IndexOf(string name) => Array.IndexOf(Known, name) is >= 0 and var i ? i + 1 : 100 + Math.Abs(name.GetHashCode(StringComparison.Ordinal) % 1000);

        public HashSet<string> Missing { get; } = [];

        public HashSet<string> NetnsFiles { get; } = [];

        public List<NetlinkRequest> Sent { get; } = [];

        public List<NlAddress> Addresses { get; } = [];

        public List<NlRoute> Routes { get; } = [];

        public NetlinkException? Refusal { get; init; }

        public int OpenDescriptors { get; private set; }

        private NlLink Link(string name) =>
            new(IndexOf(name), name, InterfaceFlags.Broadcast | InterfaceFlags.Multicast, OperState.Down, 1500, "02:00:00:00:00:0a", null, null, null, "veth", null, null, 1000);

        public Task<NlLink?> FindLinkAsync(string name, CancellationToken ct)
        {
            Sent.Add(Rtnl.GetLink(name));
            return Task.FromResult(Missing.Contains(name) ? null : Link(name));
        }

        public Task SendAsync(NetlinkRequest request, CancellationToken ct)
        {
            Sent.Add(request);
            return Refusal is null ? Task.CompletedTask : Task.FromException(Refusal);
        }

        /// <summary>What the link dump returns when not empty (else a DOWN veth for each known name).</summary>
        public List<NlLink> LinkList { get; } = [];

        public Task<IReadOnlyList<NlLink>> LinksAsync(CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<NlLink>>(LinkList.Count > 0 ? [.. LinkList] : [.. Known.Select(Link)]);

        public Task<IReadOnlyList<NlAddress>> AddressesAsync(AddressFamily family, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<NlAddress>>([.. Addresses.Where(a => family == AddressFamily.Unspecified || a.Family == family)]);

        public Task<IReadOnlyList<NlRoute>> RoutesAsync(AddressFamily family, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<NlRoute>>([.. Routes.Where(r => r.Family == family)]);

        public List<NlNeighbour> Neighbours { get; } = [];

        public Task<IReadOnlyList<NlNeighbour>> NeighboursAsync(AddressFamily family, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<NlNeighbour>>([.. Neighbours.Where(n => n.Family == family)]);

        public NetnsDescriptor? OpenNamedNetns(string name)
        {
            var opens = NetnsFiles.Count == 0 ? !name.All(char.IsAsciiDigit) : NetnsFiles.Contains(name);
            if (!opens) return null;
            OpenDescriptors++;
            return new NetnsDescriptor(NetnsFd, () => OpenDescriptors--);
        }
    }

    /// <summary>The real runner's stand-in: records what it is given.</summary>
    private sealed class Recording : ICommandRunner
    {
        public List<string> Ran { get; } = [];

        public bool IsDryRun => false;

        public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
        {
            Ran.Add(argv.Display());
            return Task.FromResult(new CommandOutcome(0, "", "", TimeSpan.Zero));
        }

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            throw new NotSupportedException();
    }
}
