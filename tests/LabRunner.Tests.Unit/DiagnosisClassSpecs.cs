using LabRunner.Engine;
using LabRunner.Engine.Diagnosis;
using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Runtimes;

namespace LabRunner.Tests.Unit;

/// <summary>
/// Each diagnosis class on canned command outputs, written as this kernel prints them (captured in an `unshare -n`
/// experiment: `ip -j route get`, `iptables-save -c`, `ss -Hltn`, /proc/net/netstat, /proc/net/stat/arp_cache): the
/// class is named when its cause is there, and not named when it is not. Counters are answered in sequence: the first
/// answer before the probe is sent again, the second after.
/// </summary>
public sealed class DiagnosisClassSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Answers each command by its display form, in turn (the last answer repeats); anything else fails as a missing tool would.</summary>
    private sealed class ScriptedRunner : ICommandRunner
    {
        private readonly Dictionary<string, Queue<CommandOutcome>> _answers = new(StringComparer.Ordinal);

        public List<string> Asked { get; } = [];

        public bool IsDryRun => false;

        public ScriptedRunner Answer(string display, params string[] stdouts)
        {
            _answers[display] = new Queue<CommandOutcome>(stdouts.Select(o => new CommandOutcome(0, o, "", TimeSpan.Zero)));
            return this;
        }

        public ScriptedRunner Refuse(string display, string stderr)
        {
            _answers[display] = new Queue<CommandOutcome>([new CommandOutcome(2, "", stderr, TimeSpan.Zero)]);
            return this;
        }

        public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
        {
            var display = argv.Display();
            Asked.Add(display);
            if (!_answers.TryGetValue(display, out var queue)) return Task.FromResult(new CommandOutcome(1, "", "not in the table", TimeSpan.Zero));
            return Task.FromResult(queue.Count > 1 ? queue.Dequeue() : queue.Peek());
        }

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            throw new NotSupportedException("a diagnosis only reads");
    }

    private static LabSession Session()
    {
        var session = new LabSession("test01", sandbox: true, new Uplink("ens3", "192.168.64.6/24"));
        session.AddContainer(new ContainerHandle("busybox-1", "x", "101"));
        session.AddContainer(new ContainerHandle("busybox-2", "y", "102"));
        return session;
    }

    private static readonly IReadOnlyList<Place> Places = [Place.Host, Place.Container("busybox-1"), Place.Container("busybox-2"), Place.Netns("outside")];

    private const string Host = "ip -n lr-test01";
    private const string HostExec = "ip netns exec lr-test01";
    private const string Outside = "ip -n lr-test01-outside";
    private const string OutsideExec = "ip netns exec lr-test01-outside";
    private const string Bb1 = "nsenter -t 101 -n";

    /// <summary>
    /// The curriculum's masquerade lab at its step 3: busybox-1 (172.16.100.101/24 on br-0) pings 10.0.2.2 in the
    /// netns outside through the host (172.16.100.1, forwarding on), which reaches outside on to-outside (10.0.2.1/24).
    /// </summary>
    private static ScriptedRunner Masquerade() => new ScriptedRunner()
        .Answer($"{Bb1} ip -j route get 10.0.2.2", """[{"dst":"10.0.2.2","gateway":"172.16.100.1","dev":"eth0","prefsrc":"172.16.100.101","flags":[],"uid":0,"cache":[]}]""")
        .Answer($"{Bb1} ip -j link show dev eth0", """[{"ifindex":2,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","address":"aa:aa:aa:aa:aa:01"}]""")
        .Answer($"{Bb1} ip -j neigh show to 172.16.100.1 dev eth0", """[{"dst":"172.16.100.1","lladdr":"aa:aa:aa:aa:aa:b0","state":["REACHABLE"]}]""")
        .Answer($"{Host} -j link show", """[{"ifname":"lo","mtu":65536,"operstate":"UNKNOWN","address":"00:00:00:00:00:00"},{"ifname":"br-0","mtu":1500,"operstate":"UP","address":"aa:aa:aa:aa:aa:b0"},{"ifname":"to-outside","mtu":1500,"operstate":"UP","address":"aa:aa:aa:aa:aa:c0"}]""")
        .Answer($"{Host} -j addr show", """[{"ifname":"br-0","addr_info":[{"family":"inet","local":"172.16.100.1","prefixlen":24}]},{"ifname":"to-outside","addr_info":[{"family":"inet","local":"10.0.2.1","prefixlen":24}]}]""")
        .Answer($"{Bb1} ip -j addr show", """[{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},{"ifname":"eth0","addr_info":[{"family":"inet","local":"172.16.100.101","prefixlen":24}]}]""")
        .Answer($"{Outside} -j addr show", """[{"ifname":"eth0","addr_info":[{"family":"inet","local":"10.0.2.2","prefixlen":24}]}]""")
        .Answer($"{Outside} -j link show", """[{"ifname":"lo","mtu":65536,"operstate":"UNKNOWN"},{"ifname":"eth0","mtu":1500,"operstate":"UP","address":"aa:aa:aa:aa:aa:d0"}]""")
        .Answer($"{HostExec} sysctl -n net.ipv4.ip_forward", "1\n")
        .Refuse($"{Outside} -j route get 172.16.100.101", "RTNETLINK answers: Network is unreachable\n")
        .Answer($"{Host} -j route get 10.0.2.2", """[{"dst":"10.0.2.2","dev":"to-outside","prefsrc":"10.0.2.1","flags":[],"uid":0,"cache":[]}]""")
        .Answer($"{HostExec} iptables-save -t nat", "");

    private static async Task<IReadOnlyList<Finding>> DiagnoseAsync(ScriptedRunner runner, DiagnosisProbe probe) =>
        await new DiagnosisWalk(Session(), runner, () => Places).DiagnoseAsync(probe, Ct);

    private static DiagnosisProbe PingOutside(bool dontFragment = false, int? size = null, string said = "") =>
        new(Place.Container("busybox-1"), "10.0.2.2", Size: size, DontFragment: dontFragment,
            ResendAsync: _ => Task.FromResult(new CommandOutcome(1, said, "", TimeSpan.Zero)));

    private static IEnumerable<string> Of(IReadOnlyList<Finding> findings, string id) => findings.Where(f => f.Class == id).Select(f => f.Text);

    // ---------- no-return-route ----------

    [Fact]
    public async Task No_route_back_and_no_MASQUERADE_is_no_return_route_with_the_masquerade_fix()
    {
        var findings = await DiagnoseAsync(Masquerade(), PingOutside());

        Assert.Equal(
            ["the reply cannot come back: netns outside has no route to 172.16.100.101 (RTNETLINK answers: Network is unreachable), " +
             "and no MASQUERADE or SNAT in host's nat POSTROUTING rewrites 172.16.100.101 leaving by to-outside",
             "try: masquerade: { source: 172.16.100.0/24, out: to-outside } in host (iptables -t nat -A POSTROUTING -s 172.16.100.0/24 -o to-outside -j MASQUERADE), " +
             "or a route back in netns outside: ip route add 172.16.100.0/24 via 10.0.2.1"],
            Of(findings, "no-return-route"));
        Assert.Equal(["no-return-route"], findings.Select(f => f.Class).OfType<string>().Distinct());
    }

    [Theory]
    [InlineData("[1:84] -A POSTROUTING -s 172.16.100.0/24 -o to-outside -j MASQUERADE")]
    [InlineData("[0:0] -A POSTROUTING -s 172.16.100.0/24 ! -o br-0 -j MASQUERADE")]
    [InlineData("[0:0] -A POSTROUTING -o to-+ -j SNAT --to-source 10.0.2.1")]
    public async Task A_MASQUERADE_or_SNAT_that_covers_the_sender_is_no_return_route_problem(string rule)
    {
        var runner = Masquerade().Answer($"{HostExec} iptables-save -t nat",
            $"*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n{rule}\nCOMMIT\n");

        Assert.Empty(Of(await DiagnoseAsync(runner, PingOutside()), "no-return-route"));
    }

    [Theory]
    [InlineData("[0:0] -A POSTROUTING -s 10.99.0.0/16 -o to-outside -j MASQUERADE")]
    [InlineData("[0:0] -A POSTROUTING -s 172.16.100.0/24 -o br-0 -j MASQUERADE")]
    [InlineData("[0:0] -A POSTROUTING ! -s 172.16.100.0/24 -j MASQUERADE")]
    public async Task A_MASQUERADE_for_other_traffic_does_not_help(string rule)
    {
        var runner = Masquerade().Answer($"{HostExec} iptables-save -t nat", $"*nat\n:POSTROUTING ACCEPT [0:0]\n{rule}\nCOMMIT\n");

        Assert.NotEmpty(Of(await DiagnoseAsync(runner, PingOutside()), "no-return-route"));
    }

    [Fact]
    public async Task A_route_back_in_the_destination_is_no_return_route_problem()
    {
        var runner = Masquerade().Answer($"{Outside} -j route get 172.16.100.101",
            """[{"dst":"172.16.100.101","gateway":"10.0.2.1","dev":"eth0","prefsrc":"10.0.2.2","flags":[],"uid":0,"cache":[]}]""");

        var findings = await DiagnoseAsync(runner, PingOutside());

        Assert.Empty(Of(findings, "no-return-route"));
        Assert.DoesNotContain(findings, f => f.Class is not null);
    }

    // ---------- iptables-drop ----------

    private const string FilterBefore = """
        # Generated by iptables-save v1.8.9 (nf_tables) on Mon Nov 30 13:33:10 2026
        *raw
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        [0:0] -A PREROUTING -s 10.8.8.8/32 -j DROP
        COMMIT
        # Completed on Mon Nov 30 13:33:10 2026
        # Generated by iptables-save v1.8.9 (nf_tables) on Mon Nov 30 13:33:10 2026
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD ACCEPT [12:1008]
        :OUTPUT ACCEPT [0:0]
        [4:336] -A FORWARD -s 172.16.100.0/24 -j ACCEPT
        [0:0] -A FORWARD -s 172.16.100.101/32 -d 10.0.2.2/32 -j DROP
        COMMIT
        # Completed on Mon Nov 30 13:33:10 2026
        """;

    [Fact]
    public async Task A_DROP_rule_whose_counter_grew_while_the_ping_was_sent_again_is_named_by_its_text_and_counter()
    {
        var after = FilterBefore.Replace("[0:0] -A FORWARD -s 172.16.100.101/32", "[2:168] -A FORWARD -s 172.16.100.101/32", StringComparison.Ordinal)
            .Replace("[4:336] -A FORWARD -s 172.16.100.0/24 -j ACCEPT", "[9:756] -A FORWARD -s 172.16.100.0/24 -j ACCEPT", StringComparison.Ordinal);
        var runner = Masquerade().Answer($"{HostExec} iptables-save -c", FilterBefore, after)
            .Answer($"{Outside} -j route get 172.16.100.101", """[{"dst":"172.16.100.101","gateway":"10.0.2.1","dev":"eth0","prefsrc":"10.0.2.2"}]""");
        var resent = 0;
        var probe = PingOutside() with { ResendAsync = _ => { resent++; return Task.FromResult(new CommandOutcome(1, "", "", TimeSpan.Zero)); } };

        var findings = await DiagnoseAsync(runner, probe);

        Assert.Equal(
            ["-A FORWARD -s 172.16.100.101/32 -d 10.0.2.2/32 -j DROP dropped 2 packets (counter 0 → 2) in host",
             "try: delete it (iptables -t filter -D FORWARD -s 172.16.100.101/32 -d 10.0.2.2/32 -j DROP in host), or insert an ACCEPT for this traffic before it (iptables -t filter -I FORWARD 2 …)"],
            Of(findings, "iptables-drop"));
        Assert.Equal(1, resent);
        Assert.Equal(2, runner.Asked.Count(a => a == $"{HostExec} iptables-save -c"));
    }

    [Fact]
    public async Task A_DROP_policy_and_a_raw_table_rule_are_named_too_in_the_place_they_are()
    {
        var policyBefore = "*filter\n:INPUT DROP [3:252]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";
        var policyAfter = "*filter\n:INPUT DROP [5:420]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n";
        var rawAfter = FilterBefore.Replace("[0:0] -A PREROUTING -s 10.8.8.8/32 -j DROP", "[1:84] -A PREROUTING -s 10.8.8.8/32 -j DROP", StringComparison.Ordinal);
        var runner = Masquerade()
            .Answer($"{OutsideExec} iptables-save -c", policyBefore, policyAfter)
            .Answer($"{HostExec} iptables-save -c", FilterBefore, rawAfter)
            .Answer($"{Outside} -j route get 172.16.100.101", """[{"dst":"172.16.100.101","gateway":"10.0.2.1","dev":"eth0","prefsrc":"10.0.2.2"}]""");

        var findings = Of(await DiagnoseAsync(runner, PingOutside()), "iptables-drop").ToList();

        Assert.Contains("-t raw -A PREROUTING -s 10.8.8.8/32 -j DROP dropped 1 packet (counter 0 → 1) in host", findings);
        Assert.Contains("the filter INPUT policy DROP dropped 2 packets (counter 3 → 5) in netns outside", findings);
    }

    [Fact]
    public async Task Counters_that_did_not_grow_or_an_ACCEPT_that_grew_name_no_rule()
    {
        var acceptGrew = FilterBefore.Replace("[4:336] -A FORWARD -s 172.16.100.0/24 -j ACCEPT", "[9:756] -A FORWARD -s 172.16.100.0/24 -j ACCEPT", StringComparison.Ordinal);
        var runner = Masquerade().Answer($"{HostExec} iptables-save -c", FilterBefore, acceptGrew)
            .Answer($"{OutsideExec} iptables-save -c", "*filter\n:INPUT DROP [3:252]\nCOMMIT\n", "*filter\n:INPUT DROP [3:252]\nCOMMIT\n");

        Assert.Empty(Of(await DiagnoseAsync(runner, PingOutside()), "iptables-drop"));
    }

    [Fact]
    public async Task A_REJECT_rule_of_a_refused_connection_is_named_as_rejecting()
    {
        var before = "*filter\n:INPUT ACCEPT [0:0]\n[0:0] -A INPUT -p tcp -m tcp --dport 81 -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n";
        var runner = Masquerade().Answer($"{OutsideExec} iptables-save -c", before, before.Replace("[0:0] -A INPUT", "[2:120] -A INPUT", StringComparison.Ordinal))
            .Answer($"{OutsideExec} ss -Hltn", "LISTEN 0      1      *:81 *:*\n");
        var probe = PingOutside() with { Protocol = "tcp", Port = 81 };

        var findings = await DiagnoseAsync(runner, probe);

        Assert.Contains("-A INPUT -p tcp -m tcp --dport 81 -j REJECT --reject-with icmp-port-unreachable rejected 2 packets (counter 0 → 2) in netns outside",
            Of(findings, "iptables-drop"));
        Assert.Empty(Of(findings, "not-listening"));
    }

    // ---------- rp-filter ----------

    /// <summary>/proc/net/netstat as the kernel writes it (columns cut down), with IPReversePathFilter at <paramref name="n"/>.</summary>
    private static string Netstat(int n) =>
        $"TcpExt: SyncookiesSent SyncookiesRecv ArpFilter IPReversePathFilter TCPTimeWaitOverflow\nTcpExt: 0 0 0 {n} 0\n" +
        "IpExt: InNoRoutes InTruncatedPkts\nIpExt: 0 0\n";

    private static ScriptedRunner AsymmetricOutside() => Masquerade()
        .Answer($"{Outside} -j link show", """[{"ifname":"lo","mtu":65536,"operstate":"UNKNOWN"},{"ifname":"eth0","mtu":1500,"operstate":"UP"},{"ifname":"eth1","mtu":1500,"operstate":"UP"}]""")
        .Answer($"{Outside} -j route get 172.16.100.101", """[{"dst":"172.16.100.101","gateway":"10.3.0.1","dev":"eth1","prefsrc":"10.3.0.2","flags":[],"uid":0,"cache":[]}]""")
        .Answer($"{OutsideExec} cat /proc/net/netstat", Netstat(0), Netstat(2))
        .Answer($"{OutsideExec} sysctl -n net.ipv4.conf.all.rp_filter", "1\n")
        .Answer($"{OutsideExec} sysctl -n net.ipv4.conf.eth0.rp_filter", "0\n")
        .Refuse($"{Outside} -j route get 10.0.2.2 from 172.16.100.101 iif eth0", "RTNETLINK answers: Invalid argument\n");

    [Fact]
    public async Task Packets_the_reverse_path_filter_dropped_name_the_interface_they_came_in_on_and_the_route_back()
    {
        var findings = await DiagnoseAsync(AsymmetricOutside(), PingOutside());

        Assert.Equal(
            ["in netns outside, the reverse-path filter dropped 2 packets (IPReversePathFilter 0 → 2): packets from 172.16.100.101 come in on eth0, " +
             "but the route back to 172.16.100.101 leaves by eth1 (net.ipv4.conf.all.rp_filter = 1, net.ipv4.conf.eth0.rp_filter = 0)",
             "try: a route back to 172.16.100.101 through eth0 in netns outside, or loose reverse-path filtering there: " +
             "sysctl -w net.ipv4.conf.all.rp_filter=2 and net.ipv4.conf.eth0.rp_filter=2 (the larger of the two counts)"],
            Of(findings, "rp-filter"));
        Assert.Empty(Of(findings, "no-return-route")); // there is a route back, by another way
    }

    [Fact]
    public async Task A_reverse_path_counter_that_did_not_grow_is_no_rp_filter_problem()
    {
        var runner = AsymmetricOutside().Answer($"{OutsideExec} cat /proc/net/netstat", Netstat(7), Netstat(7));

        Assert.Empty(Of(await DiagnoseAsync(runner, PingOutside()), "rp-filter"));
    }

    // ---------- mtu-exceeded ----------

    private static ScriptedRunner Overlay() => Masquerade()
        .Answer($"{Host} -j link show",
            """[{"ifname":"lo","mtu":65536,"operstate":"UNKNOWN"},{"ifname":"br-0","mtu":1450,"operstate":"UP","address":"aa:aa:aa:aa:aa:b0"},{"ifname":"vxlan0","mtu":1450,"operstate":"UNKNOWN"},{"ifname":"veth-1","mtu":1500,"operstate":"UP"},{"ifname":"old","mtu":1280,"operstate":"DOWN"}]""")
        .Answer($"{Outside} -j route get 172.16.100.101", """[{"dst":"172.16.100.101","gateway":"10.0.2.1","dev":"eth0","prefsrc":"10.0.2.2"}]""");

    [Fact]
    public async Task A_DF_ping_larger_than_a_link_on_the_path_names_the_links_and_the_MTU_to_use()
    {
        var findings = await DiagnoseAsync(Overlay(), PingOutside(dontFragment: true, size: 1472));

        Assert.Equal(
            ["a DF packet of 1500 bytes (1472 data + 28 of IPv4 and ICMP headers) is larger than a link's MTU on the path: br-0 in host has MTU 1450; vxlan0 in host has MTU 1450",
             "try: lower the MTU inside the path to 1450 (ip link set dev eth0 mtu 1450 in container busybox-1, and the other ends; inside a VXLAN overlay 1450, " +
             "as its headers take 50 bytes of the underlay's 1500), or send at most 1422 data bytes"],
            Of(findings, "mtu-exceeded"));
    }

    [Fact]
    public async Task What_ping_said_about_the_MTU_and_a_learned_path_MTU_are_evidence()
    {
        var runner = Masquerade().Answer($"{Bb1} ip -j route get 10.0.2.2",
            """[{"dst":"10.0.2.2","gateway":"172.16.100.1","dev":"eth0","prefsrc":"172.16.100.101","flags":[],"uid":0,"cache":[],"expires":597,"metrics":[{"mtu":1400}]}]""");

        var findings = Of(await DiagnoseAsync(runner, PingOutside(true, 1472, "From 172.16.100.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)\n")), "mtu-exceeded").ToList();

        Assert.StartsWith("a DF packet of 1500 bytes (1472 data + 28 of IPv4 and ICMP headers) is larger than a link's MTU on the path: busybox-1 has learned a path MTU of 1400 to 10.0.2.2", findings[0]);
        Assert.EndsWith("(ping says: From 172.16.100.1 icmp_seq=1 Frag needed and DF set (mtu = 1400))", findings[0]);
        Assert.Contains("send at most 1372 data bytes", findings[1]);
    }

    [Theory]
    [InlineData(false, 1472)] // without DF the kernel fragments: no MTU problem
    [InlineData(true, 1400)]  // 1428 bytes fit through 1450
    public async Task A_ping_without_DF_or_that_fits_is_no_MTU_problem(bool dontFragment, int size)
    {
        Assert.Empty(Of(await DiagnoseAsync(Overlay(), PingOutside(dontFragment, size)), "mtu-exceeded"));
    }

    // ---------- neighbour-table-full and arp-unanswered ----------

    private static string ArpCache(int entries, int fullsCpu0, int fullsCpu1) =>
        "entries  allocs   destroys hash_grows lookups  hits     res_failed rcv_probes_mcast rcv_probes_ucast periodic_gc_runs forced_gc_runs unresolved_discards table_fulls\n" +
        $"{entries:x8} 00002216 00002294 00000002   00006f4c 000018bd 0000003c   00000000         00000000         0000088c         00000000       00000000            {fullsCpu0:x8}\n" +
        $"{entries:x8} 00002276 000021f6 00000001   000066dc 000019fc 00000034   00000000         00000000         00000000         00000000       00000000            {fullsCpu1:x8}\n";

    private static ScriptedRunner Unresolved() => Masquerade()
        .Answer($"{Bb1} ip -j neigh show to 172.16.100.1 dev eth0", "[]")
        .Refuse($"{Bb1} sysctl -n net.ipv4.neigh.default.gc_thresh3", "sysctl: cannot stat /proc/sys/net/ipv4/neigh/default/gc_thresh3: No such file or directory\n")
        .Answer("sysctl -n net.ipv4.neigh.default.gc_thresh3", "1024\n")
        .Answer($"{Host} -4 -j neigh show", """[{"dst":"10.20.0.1","dev":"br-0","lladdr":"aa:aa:aa:aa:aa:01","state":["STALE"]},{"dst":"10.20.0.2","dev":"br-0","lladdr":"aa:aa:aa:aa:aa:02","state":["STALE"]}]""");

    [Fact]
    public async Task A_full_neighbour_table_is_named_when_table_fulls_grows_while_ARP_gets_no_entry()
    {
        var runner = Unresolved().Answer("cat /proc/net/stat/arp_cache", ArpCache(1024, 3, 0), ArpCache(1024, 4, 1));

        var findings = await DiagnoseAsync(runner, PingOutside());

        Assert.Equal(["arp-unanswered", "neighbour-table-full"], findings.Select(f => f.Class).OfType<string>().Distinct());
        Assert.Equal(
            "the neighbour table is full: 1024 entries, net.ipv4.neigh.default.gc_thresh3 = 1024 (table_fulls 3 → 5): the kernel cannot make an entry " +
            "for the next hop (it logs \"neighbour table overflow\"); host holds 2 of them",
            Of(findings, "neighbour-table-full").First());
    }

    [Fact]
    public async Task An_unanswered_ARP_with_room_in_the_table_is_only_arp_unanswered()
    {
        var runner = Unresolved().Answer("cat /proc/net/stat/arp_cache", ArpCache(2, 0, 0), ArpCache(3, 0, 0));

        var findings = await DiagnoseAsync(runner, PingOutside());

        Assert.Empty(Of(findings, "neighbour-table-full"));
        Assert.StartsWith("ARP for 172.16.100.1 on eth0 got no answer (neighbour entry: none)", Of(findings, "arp-unanswered").Single());
        Assert.Equal("172.16.100.1 is on host: check its route back to the sender, and its INPUT chain", findings[^1].Text); // the walk stops at layer 2
    }

    // ---------- not-listening ----------

    /// <summary>netns outside connects to the host's 10.0.2.1 on its own link.</summary>
    private static ScriptedRunner ClientToHost(string ss) => Masquerade()
        .Answer($"{Outside} -j route get 10.0.2.1", """[{"dst":"10.0.2.1","dev":"eth0","prefsrc":"10.0.2.2","flags":[],"uid":0,"cache":[]}]""")
        .Answer($"{Outside} -j link show dev eth0", """[{"ifname":"eth0","mtu":1500,"operstate":"UP"}]""")
        .Answer($"{Outside} -j neigh show to 10.0.2.1 dev eth0", """[{"dst":"10.0.2.1","lladdr":"aa:aa:aa:aa:aa:c0","state":["REACHABLE"]}]""")
        .Answer($"{Host} -j route get 10.0.2.2", """[{"dst":"10.0.2.2","dev":"to-outside","prefsrc":"10.0.2.1"}]""")
        .Answer($"{HostExec} ss -Hltn", ss);

    private static DiagnosisProbe Connect(int port) => new(Place.Netns("outside"), "10.0.2.1", "tcp", port);

    [Fact]
    public async Task A_port_nobody_listens_on_is_not_listening_with_what_does_listen()
    {
        var findings = await DiagnoseAsync(ClientToHost("LISTEN 0      1      *:7 *:*\nLISTEN 0      4096   0.0.0.0:22 0.0.0.0:*\n"), Connect(8080));

        Assert.Equal(
            ["nobody listens on TCP port 8080 in host (ss -ltn: listening on 7, 22)",
             "try: start a server on TCP port 8080 in host (e.g. serve: { in: host, app: http, port: 8080 }) listening on all addresses, or connect to a port that is served"],
            Of(findings, "not-listening"));
    }

    [Fact]
    public async Task A_server_bound_to_another_address_only_is_not_listening_there()
    {
        var findings = await DiagnoseAsync(ClientToHost("LISTEN 0      4096   127.0.0.1:8080 0.0.0.0:*\n"), Connect(8080));

        Assert.Equal("in host, TCP port 8080 is listened on only at 127.0.0.1, not at 10.0.2.1", Of(findings, "not-listening").First());
    }

    [Theory]
    [InlineData("LISTEN 0      1      *:8080 *:*\n")]
    [InlineData("LISTEN 0      4096   10.0.2.1:8080 0.0.0.0:*\n")]
    [InlineData("LISTEN 0      4096   [::]:8080 [::]:*\n")]
    public async Task A_server_that_listens_there_is_no_not_listening(string ss)
    {
        Assert.Empty(Of(await DiagnoseAsync(ClientToHost(ss), Connect(8080)), "not-listening"));
    }

    [Fact]
    public async Task A_published_port_is_followed_through_its_DNAT_to_the_container_where_nobody_listens()
    {
        var runner = ClientToHost("LISTEN 0      4096   0.0.0.0:22 0.0.0.0:*\n")
            .Answer($"{HostExec} iptables-save -t nat",
                "*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n[3:180] -A PREROUTING -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.16.100.101:80\nCOMMIT\n")
            .Answer($"{Bb1} ss -Hltn", "");

        var findings = await DiagnoseAsync(runner, Connect(8080));

        Assert.Equal("nobody listens on TCP port 80 in container busybox-1 (DNAT in host: 10.0.2.1:8080 → 172.16.100.101:80) (ss -ltn: no listening socket)",
            Of(findings, "not-listening").First());
    }

    [Fact]
    public async Task A_loopback_port_is_looked_up_in_the_senders_own_namespace_not_wherever_127_0_0_1_is()
    {
        var runner = new ScriptedRunner()
            .Answer($"{Bb1} ip -j route get 127.0.0.1", """[{"type":"local","dst":"127.0.0.1","dev":"lo","prefsrc":"127.0.0.1","flags":[],"uid":0,"cache":["local"]}]""")
            .Answer($"{Bb1} ip -j link show dev lo", """[{"ifname":"lo","mtu":65536,"operstate":"UNKNOWN"}]""")
            .Answer($"{Host} -j addr show", """[{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]}]""")
            .Answer($"{HostExec} ss -Hltn", "LISTEN 0      1      *:8 *:*\n")
            .Answer($"{Bb1} ss -Hltn", "LISTEN 0      1      *:7 *:*\n");

        var findings = await DiagnoseAsync(runner, new DiagnosisProbe(Place.Container("busybox-1"), "127.0.0.1", "tcp", 8));

        Assert.Contains(findings, f => f.Text == "127.0.0.1 is an address of busybox-1 itself: delivered through lo, no ARP on the way");
        Assert.Equal("nobody listens on TCP port 8 in container busybox-1 (ss -ltn: listening on 7)", Of(findings, "not-listening").First());
        Assert.Empty(Of(findings, "no-return-route"));
    }

    [Fact]
    public async Task A_ping_is_never_put_down_to_a_port()
    {
        Assert.Empty(Of(await DiagnoseAsync(ClientToHost(""), new DiagnosisProbe(Place.Netns("outside"), "10.0.2.1")), "not-listening"));
    }

    // ---------- the registry ----------

    [Fact]
    public void Every_class_has_a_stable_id_in_the_walk_and_the_docs_table()
    {
        Assert.Equal(
            ["no-route", "link-down", "mtu-exceeded", "arp-unanswered", "ipv6-nd", "neighbour-table-full", "address-not-in-lab", "bridge-netfilter", "iptables-drop",
             "rp-filter", "gateway-not-forwarding", "no-return-route", "not-listening"],
            DiagnosisClasses.Ids);
        var docs = File.ReadAllText(Path.Combine(Infrastructure.Repo.Root, "docs", "SCENARIO-LANGUAGE.md"));
        foreach (var id in DiagnosisClasses.Ids)
            Assert.True(docs.Contains($"| `{id}` |", StringComparison.Ordinal), $"docs/SCENARIO-LANGUAGE.md's diagnosis table has no row for {id}");
    }
}
