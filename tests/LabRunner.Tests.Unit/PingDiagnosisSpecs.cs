using LabRunner.Engine;
using LabRunner.Engine.Diagnosis;
using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Runtimes;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The diagnosis of a ping that got no answer, on canned command outputs (the real kernel's are in the integration
/// and regression specs): it follows the path the way a trainer would and names the cause.
/// </summary>
public sealed class PingDiagnosisSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Answers each command from a table keyed by its display form; anything else fails, as a missing tool would.</summary>
    private sealed class CannedRunner(Dictionary<string, string> answers) : ICommandRunner
    {
        public List<string> Asked { get; } = [];

        public bool IsDryRun => false;

        public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
        {
            var display = argv.Display();
            Asked.Add(display);
            return Task.FromResult(answers.TryGetValue(display, out var stdout)
                ? new CommandOutcome(0, stdout, "", TimeSpan.Zero)
                : new CommandOutcome(1, "", "not in the table", TimeSpan.Zero));
        }

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            throw new NotSupportedException("a diagnosis only reads");
    }

    private static List<string> Lines(IReadOnlyList<Finding> findings) => [.. findings.Select(f => f.Text)];

    private static LabSession Session()
    {
        var session = new LabSession("test01", sandbox: true, new Uplink("ens3", "192.168.64.6/24"));
        session.AddContainer(new ContainerHandle("busybox-1", "x", "101"));
        session.AddContainer(new ContainerHandle("busybox-2", "y", "102"));
        return session;
    }

    private static readonly IReadOnlyList<Place> Places = [Place.Host, Place.Container("busybox-1"), Place.Container("busybox-2")];

    private static readonly PingExpectation Ping = new(Place.Container("busybox-2"), "172.16.100.101", true, 1);

    private static Dictionary<string, string> Article32() => new()
    {
        ["nsenter -t 102 -n ip -j route get 172.16.100.101"] = """[{"dst":"172.16.100.101","dev":"veth-4","prefsrc":"172.16.100.102","flags":[]}]""",
        ["nsenter -t 102 -n ip -j link show dev veth-4"] = """[{"ifname":"veth-4","operstate":"UP","address":"aa:aa:aa:aa:aa:04"}]""",
        ["nsenter -t 102 -n ip -j neigh show to 172.16.100.101 dev veth-4"] = """[{"dst":"172.16.100.101","lladdr":"aa:aa:aa:aa:aa:02","state":["REACHABLE"]}]""",
        ["ip -n lr-test01 -j link show"] = """[{"ifname":"lo","address":"00:00:00:00:00:00"},{"ifname":"br-0","address":"aa:aa:aa:aa:aa:b0"}]""",
        ["nsenter -t 101 -n ip -j link show"] = """[{"ifname":"lo","address":"00:00:00:00:00:00"},{"ifname":"veth-2","address":"aa:aa:aa:aa:aa:02"}]""",
        ["ip -n lr-test01 -j link show type bridge"] = """[{"ifname":"br-0"}]""",
        ["ip netns exec lr-test01 sysctl -n net.bridge.bridge-nf-call-iptables"] = "1\n",
        ["ip netns exec lr-test01 iptables -t filter -S FORWARD"] = "-P FORWARD DROP\n",
    };

    [Fact]
    public async Task The_articles_failing_ping_is_put_down_to_br_netfilter_and_the_FORWARD_drop_policy()
    {
        var diagnosis = new DiagnosisWalk(Session(), new CannedRunner(Article32()), () => Places);

        var found = await diagnosis.DiagnoseAsync(Ping.From, Ping.To, Ct);
        var findings = found.Select(f => f.Text).ToList();
        Assert.Equal([null, null, "bridge-netfilter", "bridge-netfilter"], found.Select(f => f.Class));

        Assert.Equal("busybox-2 sends to 172.16.100.101 via veth-4 (on-link), from 172.16.100.102", findings[0]);
        Assert.Equal("ARP works: 172.16.100.101 is at aa:aa:aa:aa:aa:02 (veth-2 in busybox-1), so layer 2 reaches it", findings[1]);
        Assert.StartsWith("in host, bridged IPv4 frames of br-0 go through iptables (net.bridge.bridge-nf-call-iptables = 1) and the filter FORWARD policy is DROP", findings[2]);
        Assert.StartsWith("try: ", findings[3]);
        Assert.Equal(4, findings.Count);
    }

    [Fact]
    public async Task With_bridge_nf_call_iptables_off_the_bridge_is_not_blamed_and_the_target_is_looked_for()
    {
        var answers = Article32();
        answers["ip netns exec lr-test01 sysctl -n net.bridge.bridge-nf-call-iptables"] = "0\n";
        answers["nsenter -t 101 -n ip -j addr show"] = """[{"ifname":"veth-2","addr_info":[{"family":"inet","local":"172.16.100.101"}]}]""";

        var findings = Lines(await new DiagnosisWalk(Session(), new CannedRunner(answers), () => Places).DiagnoseAsync(Ping.From, Ping.To, Ct));

        Assert.DoesNotContain(findings, f => f.Contains("bridge-nf-call", StringComparison.Ordinal));
        Assert.Equal("172.16.100.101 is on container busybox-1: check its route back to the sender, and its INPUT chain", findings[^1]);
    }

    [Fact]
    public async Task A_next_hop_ARP_cannot_resolve_is_a_layer_2_problem()
    {
        var answers = Article32();
        answers["nsenter -t 102 -n ip -j neigh show to 172.16.100.101 dev veth-4"] = """[{"dst":"172.16.100.101","dev":"veth-4","state":["FAILED"]}]""";

        var findings = Lines(await new DiagnosisWalk(Session(), new CannedRunner(answers), () => Places).DiagnoseAsync(Ping.From, Ping.To, Ct));

        Assert.StartsWith("ARP for 172.16.100.101 on veth-4 got no answer (neighbour entry: FAILED): layer 2 does not reach it", findings[1]);
        Assert.Equal("no namespace or container of the lab has the address 172.16.100.101", findings[^1]);
    }

    [Fact]
    public async Task No_route_and_a_link_whose_peer_is_down_are_said_first()
    {
        var noRoute = new Dictionary<string, string>();
        var findings = Lines(await new DiagnosisWalk(Session(), new CannedRunner(noRoute), () => Places).DiagnoseAsync(Ping.From, Ping.To, Ct));
        Assert.Equal(["busybox-2 has no route to 172.16.100.101: give it an address in 172.16.100.101's subnet, or a default route"], findings);

        var answers = Article32();
        answers["nsenter -t 102 -n ip -j link show dev veth-4"] = """[{"ifname":"veth-4","operstate":"LOWERLAYERDOWN"}]""";
        findings = Lines(await new DiagnosisWalk(Session(), new CannedRunner(answers), () => Places).DiagnoseAsync(Ping.From, Ping.To, Ct));
        Assert.Equal("veth-4 in busybox-2 is LOWERLAYERDOWN: its peer is down or not up yet (ip link set PEER up)", findings[^1]);
    }

    [Fact]
    public async Task A_gateway_that_does_not_forward_is_named()
    {
        var places = new[] { Place.Host, Place.Netns("h1"), Place.Netns("router") };
        var answers = new Dictionary<string, string>
        {
            ["ip -n lr-test01-h1 -j route get 10.0.2.10"] = """[{"dst":"10.0.2.10","gateway":"10.0.1.1","dev":"eth0","prefsrc":"10.0.1.10"}]""",
            ["ip -n lr-test01-h1 -j link show dev eth0"] = """[{"ifname":"eth0","operstate":"UP"}]""",
            ["ip -n lr-test01-h1 -j neigh show to 10.0.1.1 dev eth0"] = """[{"dst":"10.0.1.1","lladdr":"aa:aa:aa:aa:aa:01","state":["REACHABLE"]}]""",
            ["ip -n lr-test01-router -j addr show"] = """[{"ifname":"eth-a","addr_info":[{"family":"inet","local":"10.0.1.1"}]}]""",
            ["ip netns exec lr-test01-router sysctl -n net.ipv4.ip_forward"] = "0\n",
        };

        var findings = Lines(await new DiagnosisWalk(Session(), new CannedRunner(answers), () => places).DiagnoseAsync(Place.Netns("h1"), "10.0.2.10", Ct));

        Assert.Equal("h1 sends to 10.0.2.10 via eth0, through the gateway 10.0.1.1, from 10.0.1.10", findings[0]);
        Assert.Contains("the gateway 10.0.1.1 is netns router, which does not forward IPv4 (net.ipv4.ip_forward = 0)", findings);
    }

    /// <summary>The classes the article's findings belong to, as a lab's why: names them.</summary>
    [Fact]
    public async Task The_articles_findings_carry_their_class_ids()
    {
        async Task<string[]> ClassesAsync(Dictionary<string, string> answers) =>
            [.. (await new DiagnosisWalk(Session(), new CannedRunner(answers), () => Places).DiagnoseAsync(Ping.From, Ping.To, Ct))
                .Select(f => f.Class).OfType<string>().Distinct()];

        Assert.Equal(["no-route"], await ClassesAsync([]));
        var down = Article32();
        down["nsenter -t 102 -n ip -j link show dev veth-4"] = """[{"ifname":"veth-4","operstate":"DOWN"}]""";
        Assert.Equal(["link-down"], await ClassesAsync(down));
        var failed = Article32();
        failed["nsenter -t 102 -n ip -j neigh show to 172.16.100.101 dev veth-4"] = """[{"dst":"172.16.100.101","dev":"veth-4","state":["FAILED"]}]""";
        Assert.Equal(["arp-unanswered", "address-not-in-lab"], await ClassesAsync(failed));
        var off = Article32();
        off["ip netns exec lr-test01 sysctl -n net.bridge.bridge-nf-call-iptables"] = "0\n";
        Assert.Equal(["address-not-in-lab"], await ClassesAsync(off)); // ARP answered, yet no place of the lab has the address
        off["nsenter -t 101 -n ip -j addr show"] = """[{"ifname":"veth-2","addr_info":[{"family":"inet","local":"172.16.100.101"}]}]""";
        Assert.Empty(await ClassesAsync(off)); // nothing found: the target is named with what to check there
    }
}
