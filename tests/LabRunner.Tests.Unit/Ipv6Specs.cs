using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Reporting;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// IPv6 in `address-add`, `route-add`, `ping`, `neighbor`, `route` and `address` (issue 12): the same rules and messages
/// as IPv4, `ip -6` where iproute2 needs it, addresses added with nodad, neighbour discovery read as ARP is. The kernel's
/// outputs below were captured in `unshare -n` on this machine (iproute2 6.1, kernel 6.18).
/// </summary>
public sealed class Ipv6Specs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Lab(string actions, string expect = "") => $$"""
        lab: ipv6
        steps:
          - title: a bridge and a container
            actions:
              - bridge-add: br-0
              - container-run: busybox-1
              - veth-add: { name: veth-1, peer: veth-2 }
              - link-move: { name: veth-2, to: busybox-1, up: true }
          - title: t
            actions:
        {{actions}}
        {{expect}}
        """;

    // ---------- what an address may look like ----------

    [Theory]
    [InlineData("fd00:100::101", true)]
    [InlineData("::1", true)]
    [InlineData("::", true)]
    [InlineData("fe80::5c0b:61ff:fe70:e6eb", true)]
    [InlineData("FD00:100:0:0::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("fd00::1::2", false)]
    [InlineData("fd00::g", false)]
    [InlineData("1:2:3:4:5:6:7:8:9", false)]
    [InlineData("[::1]", false)]       // IPAddress.TryParse takes brackets; ip does not
    [InlineData("[::1]:80", false)]    // nor a port
    [InlineData("fe80::1%eth0", false)] // nor a zone
    [InlineData("fe80::1%5", false)]
    [InlineData(" ::1", false)]
    [InlineData("fd00::1/64", false)]
    [InlineData("172.16.100.1", false)]
    [InlineData("", false)]
    public void IPv6_is_what_ip_reads_without_brackets_ports_or_zones(string text, bool valid) => Assert.Equal(valid, Names.IsIPv6(text));

    [Theory]
    [InlineData("fd00:100::1/64", null)]
    [InlineData("::/0", null)]
    [InlineData("fd00::1/128", null)]
    [InlineData("fd00::1", "'fd00::1' needs a prefix length, e.g. fd00::1/64")]
    [InlineData("fd00::1/129", "prefix length in 'fd00::1/129' must be a number from 0 to 128")]
    [InlineData("fd00::1/064", "prefix length in 'fd00::1/064' must be a number from 0 to 128")]
    [InlineData("fd00::1/", "prefix length in 'fd00::1/' must be a number from 0 to 128")]
    [InlineData("fd00:::1/64", "'fd00:::1' is not an IPv6 address")]
    [InlineData("fe80::1%eth0/64", "'fe80::1%eth0' has a zone (%eth0); give the link with 'dev' instead")]
    [InlineData("172.16.100.1", "'172.16.100.1' needs a prefix length, e.g. 172.16.100.1/24")] // IPv4: its own rule and message
    public void A_CIDR_of_either_family_is_checked_with_its_own_rule(string cidr, string? why) => Assert.Equal(why, Names.CheckIpCidr(cidr));

    [Theory]
    [InlineData("FD00:100:0:0::1/64", "fd00:100::1/64")]
    [InlineData("fd00:0:0:0:0:0:0:1", "fd00::1")]
    [InlineData("0::0/0", "::/0")]
    [InlineData("172.16.100.1/24", "172.16.100.1/24")]
    [InlineData("default", "default")]
    public void An_IPv6_address_is_kept_in_the_form_ip_prints(string text, string canonical) => Assert.Equal(canonical, Names.Canonical(text));

    [Theory]
    [InlineData("fd00:300::/64", null)]
    [InlineData("::/0", null)]
    [InlineData("fd00:300::5/128", null)]
    [InlineData("fd00:300::1/64", "'fd00:300::1/64' has host bits set: the network is fd00:300::/64")]
    public void An_IPv6_route_destination_is_a_network(string cidr, string? why) => Assert.Equal(why, Names.CheckIPv6Network(cidr));

    // ---------- loading: values, and mistakes where they are written ----------

    [Fact]
    public void IPv6_addresses_routes_pings_and_neighbours_load_in_the_form_ip_prints()
    {
        var lab = Scenarios.Load(Lab("""
                  - address-add: { dev: br-0, address: "FD00:100:0::1/64" }
                  - route-add: { in: busybox-1, to: default, via: "fd00:100:0::1" }
                  - route-add: { in: busybox-1, to: "fd00:0300::/64", dev: veth-2 }
            """, """
                expect:
                  - ping: { from: busybox-1, to: "fd00:100:0::1" }
                  - neighbor: { in: busybox-1, ip: "FD00:100::1" }
                  - address: { dev: br-0, address: "fd00:100:0:0::1/64" }
                  - route: { in: busybox-1, to: "0::/0", dev: veth-2 }
            """));

        var step = lab.Steps[1];
        Assert.Equal(new AddressAdd("br-0", "fd00:100::1/64", Place.Host), step.Actions[0] with { Span = SourceSpan.None });
        Assert.Equal(new RouteAdd("default", null, "fd00:100::1", Place.Container("busybox-1")), step.Actions[1] with { Span = SourceSpan.None });
        Assert.Equal("fd00:300::/64", ((RouteAdd)step.Actions[2]).Destination);
        Assert.Equal("fd00:100::1", ((PingExpectation)step.Expectations[0]).To);
        Assert.Equal("fd00:100::1", ((NeighborExpectation)step.Expectations[1]).Ip);
        Assert.Equal("fd00:100::1/64", ((AddressExpectation)step.Expectations[2]).Cidr);
        Assert.Equal("::/0", ((RouteExpectation)step.Expectations[3]).Destination);
        Assert.True(((RouteExpectation)step.Expectations[3]).IsIPv6);
    }

    [Theory]
    [InlineData("      - address-add: { dev: br-0, address: fd00::1::2/64 }", 11, 44, "'fd00::1::2' is not an IPv6 address", "write it as address/prefix, e.g. fd00:100::1/64")]
    [InlineData("      - address-add: { dev: br-0, address: fd00::1/129 }", 11, 44, "prefix length in 'fd00::1/129' must be a number from 0 to 128", "write it as address/prefix, e.g. fd00:100::1/64")]
    [InlineData("      - address-add: { dev: br-0, address: fd00::1 }", 11, 44, "'fd00::1' needs a prefix length, e.g. fd00::1/64", "write it as address/prefix, e.g. fd00:100::1/64")]
    [InlineData("      - address-add: { dev: br-0, address: 172.16.100.1/24, dad: true }", 11, 66, "'dad' is for IPv6 addresses: IPv4 has no duplicate address detection", "remove it")]
    [InlineData("      - route-add: { to: fd00:300::1/64, dev: br-0 }", 11, 26, "'fd00:300::1/64' has host bits set: the network is fd00:300::/64", "use 'default' or a network such as fd00:200::/64 (::/0 is IPv6's default)")]
    [InlineData("      - route-add: { to: 10.0.0.0/8, via: fd00::1 }", 11, 43, "the gateway fd00::1 is IPv6 but '10.0.0.0/8' is an IPv4 destination", "give the destination and the gateway in one family")]
    [InlineData("      - route-add: { to: fd00:300::/64, via: 10.0.0.1 }", 11, 46, "the gateway 10.0.0.1 is IPv4 but 'fd00:300::/64' is an IPv6 destination", "give the destination and the gateway in one family")]
    [InlineData("      - route-add: { to: default, via: fe80::1 }", 11, 40, "the link-local gateway fe80::1 is reachable only on one link: give 'dev'", "e.g. 'dev: veth-2'")]
    [InlineData("      - route-add: { to: default, via: \"fe80::1%br-0\", dev: br-0 }", 11, 40, "'fe80::1%br-0' has a zone (%br-0); give the link with 'dev' instead", "e.g. fd00:100::101")]
    public void A_bad_IPv6_action_is_refused_where_it_is_written(string action, int line, int column, string message, string hint)
    {
        var error = Scenarios.ErrorIn(Lab(action));

        error.At(line, column);
        Assert.Equal(message, error.Message);
        Assert.Equal(hint, error.Hint);
    }

    [Theory]
    [InlineData("      - ping: { from: busybox-1, to: \"fd00::1::2\" }", 13, 38, "'fd00::1::2' is not an IPv6 address")]
    [InlineData("      - ping: { from: busybox-1, to: \"[fd00::1]\" }", 13, 38, "'[fd00::1]' is not an IPv6 address")]
    [InlineData("      - neighbor: { in: busybox-1, ip: \"fd00::zz\" }", 13, 40, "'fd00::zz' is not an IPv6 address")]
    [InlineData("      - address: { dev: br-0, address: \"fd00::1/200\" }", 13, 40, "prefix length in 'fd00::1/200' must be a number from 0 to 128")]
    [InlineData("      - route: { in: busybox-1, to: default, via: \"fd00::1:\" }", 13, 51, "'fd00::1:' is not an IPv6 address")]
    [InlineData("      - capture: { while: { ping: { from: busybox-1, to: \"fd00::1::\" } }, on: [ { link: veth-1, sees: [icmp6] } ] }", 13, 58, "'fd00::1::' is not an IPv6 address")]
    [InlineData("      - connect: { from: busybox-1, to: \"fd00::1:\", port: 80 }", 13, 41, "'fd00::1:' is not an IPv6 address")]
    public void A_bad_IPv6_expectation_is_refused_where_it_is_written(string expectation, int line, int column, string message)
    {
        var error = Scenarios.ErrorIn(Lab("      - link-up: veth-1", "    expect:\n" + expectation));

        error.At(line, column);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void IPv4_keeps_its_own_messages_and_still_loads()
    {
        Assert.Equal("'172.16.100.300' is not an IPv4 address", Scenarios.ErrorIn(Lab("      - route-add: { to: default, via: 172.16.100.300 }")).Message);
        Assert.Equal("'300.1.1.1' is not an IPv4 address", Scenarios.ErrorIn(Lab("      - address-add: { dev: br-0, address: 300.1.1.1/24 }")).Message);
        Assert.Equal("'10.0.0.01' is not an IPv4 address", Scenarios.ErrorIn(Lab("      - link-up: veth-1", "    expect:\n      - neighbor: { ip: 10.0.0.01 }")).Message);
        var lab = Scenarios.Load(Lab("      - route-add: { to: 10.0.0.0/8, via: 10.0.0.1 }", "    expect:\n      - neighbor: { ip: 10.0.0.1 }\n      - ping: { from: host, to: 10.0.0.1 }"));
        Assert.False(((RouteAdd)lab.Steps[1].Actions[0]).IsIPv6);
    }

    // ---------- the commands ----------

    [Fact]
    public async Task The_plan_shows_ip_6_for_IPv6_routes_and_nodad_for_IPv6_addresses_and_IPv4_as_before()
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(Scenarios.Load(Lab("""
                  - address-add: { dev: br-0, address: fd00:100::1/64 }
                  - address-add: { dev: br-0, address: fd00:100::2/64, dad: true }
                  - address-add: { dev: br-0, address: 172.16.100.1/24 }
                  - route-add: { in: busybox-1, to: default, via: fd00:100::1 }
                  - route-add: { in: busybox-1, to: "::/0", dev: veth-2 }
                  - route-add: { in: busybox-1, to: default, via: fe80::1, dev: veth-2 }
                  - route-add: { in: busybox-1, to: default, dev: veth-2 }
            """)), state.Path, Ct);

        var actions = plan.CommandsFor(CommandPurpose.Action);
        Assert.Contains("ip -n lr-test01 addr add fd00:100::1/64 dev br-0 nodad", actions);
        Assert.Contains("ip -n lr-test01 addr add fd00:100::2/64 dev br-0", actions);
        Assert.Contains("ip -n lr-test01 addr add 172.16.100.1/24 dev br-0", actions);
        Assert.Contains("nsenter -t <busybox-1.pid> -n ip -6 route add default via fd00:100::1", actions);
        Assert.Contains("nsenter -t <busybox-1.pid> -n ip -6 route add ::/0 dev veth-2", actions);
        Assert.Contains("nsenter -t <busybox-1.pid> -n ip -6 route add default via fe80::1 dev veth-2", actions);
        Assert.Contains("nsenter -t <busybox-1.pid> -n ip route add default dev veth-2", actions);
        var teardown = plan.UndoCommands;
        Assert.Contains("nsenter -t <busybox-1.pid> -n ip -6 route del default via fd00:100::1", teardown);
        Assert.Contains("ip -n lr-test01 addr del fd00:100::1/64 dev br-0", teardown);
        Assert.Contains("nsenter -t <busybox-1.pid> -n ip route del default dev veth-2", teardown);
    }

    private static (ObserveContextParts Parts, RecordingRunner Runner) Context(Func<IReadOnlyList<string>, CommandOutcome> answer)
    {
        var runner = new RecordingRunner(answer);
        var session = new LabSession("ab12cd", true, Uplink.Default);
        session.AddContainer(new ContainerHandle("busybox-1", "x", "101"));
        session.AddContainer(new ContainerHandle("busybox-2", "y", "102"));
        var places = new PlaceCommands(session, runner, new FakeRuntime("process"));
        var context = new Kinds.ObserveContext(session, runner, places, new PacketCapture(session, runner, places, LabJournal.InMemory(
            new JournalHeader("ab12cd", 1, 1, "lab.yaml", Sandbox: true, DateTimeOffset.UnixEpoch))), new LabRunner.Engine.Diagnosis.DiagnosisWalk(session, runner, () => []));
        return (new ObserveContextParts(context), runner);
    }

    private sealed record ObserveContextParts(Kinds.ObserveContext Context);

    // `ip -j -6 neigh show` in busybox-2 after pinging br-0 (the host forwarding IPv6: a router) and an address nobody has.
    private const string Neighbours = """
        [{"dst":"fd00:100::1","dev":"veth-4","lladdr":"46:97:e4:70:f6:69","router":null,"state":["REACHABLE"]},{"dst":"fd00:100::99","dev":"veth-4","state":["INCOMPLETE"]}]
        """;

    [Theory]
    [InlineData("fd00:100::1", null, true, "fd00:100::1 at 46:97:e4:70:f6:69 (REACHABLE)")]
    [InlineData("fd00:100::1", "46:97:e4:70:f6:69", true, "fd00:100::1 at 46:97:e4:70:f6:69 (REACHABLE)")]
    [InlineData("fd00:100::1", "46:97:e4:70:f6:6a", false, "fd00:100::1 at 46:97:e4:70:f6:69 (REACHABLE)")]
    [InlineData("fd00:100::99", null, false, "no resolved entry for fd00:100::99 in container busybox-2")]
    [InlineData("fd00:100::77", null, false, "no resolved entry for fd00:100::77 in container busybox-2")]
    public async Task The_IPv6_neighbour_table_is_read_as_ARPs_is(string ip, string? mac, bool held, string observed)
    {
        var (parts, runner) = Context(argv => RecordingRunner.Ok(Neighbours));
        var neighbor = new NeighborExpectation(Place.Container("busybox-2"), ip, mac, null, null);

        Assert.Equal((held, observed), await neighbor.ObserveAsync(parts.Context, Ct));
        Assert.Equal($"nsenter -t 102 -n ip -6 -j neigh show to {ip}", runner.Displays[0]);
    }

    [Theory]
    [InlineData("""[{"dst":"fd00:100::101","dev":"veth-4","lladdr":"5e:0b:61:70:e6:eb","state":["STALE"]}]""", true)]
    [InlineData("""[{"dst":"fd00:100::101","dev":"veth-4","lladdr":"5e:0b:61:70:e6:eb","state":["DELAY"]}]""", true)]
    [InlineData("""[{"dst":"fd00:100::101","dev":"veth-4","state":["FAILED"]}]""", false)]
    [InlineData("[]", false)]
    public async Task Any_state_with_a_MAC_counts_and_a_failed_solicitation_does_not(string json, bool held)
    {
        var (parts, _) = Context(_ => RecordingRunner.Ok(json));

        Assert.Equal(held, (await new NeighborExpectation(Place.Container("busybox-2"), "fd00:100::101", null, null, null).ObserveAsync(parts.Context, Ct)).Held);
    }

    [Fact]
    public async Task An_IPv4_neighbour_is_read_without_6_as_before()
    {
        var (parts, runner) = Context(_ => RecordingRunner.Ok("[]"));

        await new NeighborExpectation(Place.Container("busybox-2"), "172.16.100.101", null, null, null).ObserveAsync(parts.Context, Ct);

        Assert.Equal("nsenter -t 102 -n ip -j neigh show to 172.16.100.101", runner.Displays[0]);
    }

    // `ip -j -6 route show` in busybox-1 after `ip -6 route add default via fd00:100::1` and a /128 host route.
    private const string Routes = """
        [{"dst":"fd00:100::/64","dev":"veth-2","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},{"dst":"fd00:300::5","dev":"veth-2","metric":1024,"flags":[],"pref":"medium"},{"dst":"fe80::/64","dev":"veth-2","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},{"dst":"default","gateway":"fd00:100::1","dev":"veth-2","metric":1024,"flags":[],"pref":"medium"}]
        """;

    [Theory]
    [InlineData("default", null, "fd00:100::1", true)]
    [InlineData("default", "veth-2", "fd00:100::1", true)]
    [InlineData("default", null, "fd00:100::2", false)]
    [InlineData("::/0", "veth-2", null, true)]
    [InlineData("fe80::/64", "veth-2", null, true)]
    [InlineData("fd00:300::5/128", null, null, true)]
    [InlineData("fd00:300::/64", null, null, false)]
    public async Task An_IPv6_route_is_looked_for_in_ip_6_route_show(string to, string? dev, string? via, bool held)
    {
        var (parts, runner) = Context(_ => RecordingRunner.Ok(Routes));
        var route = new RouteExpectation(Place.Container("busybox-1"), to, dev, via, Present: true);

        var (observedHeld, observed) = await route.ObserveAsync(parts.Context, Ct);

        Assert.Equal(held, observedHeld);
        Assert.Equal("nsenter -t 101 -n ip -6 -j route show", runner.Displays[0]);
        Assert.Equal("fd00:100::/64 dev veth-2; fd00:300::5 dev veth-2; fe80::/64 dev veth-2; default via fd00:100::1 dev veth-2", observed);
    }

    [Fact]
    public async Task An_IPv4_route_is_looked_for_without_6_as_before()
    {
        var (parts, runner) = Context(_ => RecordingRunner.Ok("""[{"dst":"default","dev":"veth-2","flags":[]}]"""));

        Assert.True((await new RouteExpectation(Place.Container("busybox-1"), "default", "veth-2", null, true).ObserveAsync(parts.Context, Ct)).Held);
        Assert.Equal("nsenter -t 101 -n ip -j route show", runner.Displays[0]);
    }

    // `ip -j addr show dev veth-4` right after `ip addr add fd00:100::202/64 dev veth-4` (with duplicate address detection).
    private const string Addresses = """
        [{"ifindex":2,"link_index":4,"ifname":"veth-4","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"fa:c5:96:42:fa:3e","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"addr_info":[{"family":"inet6","local":"fd00:100::202","prefixlen":64,"scope":"global","tentative":true,"valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::f8c5:96ff:fe42:fa3e","prefixlen":64,"scope":"link","tentative":true,"valid_life_time":4294967295,"preferred_life_time":4294967295}]}]
        """;

    [Theory]
    [InlineData("fd00:100::202/64", true, true)]
    [InlineData("fd00:100::202/64", false, false)]
    [InlineData("fd00:100::203/64", true, false)]
    [InlineData("fd00:100::203/64", false, true)]
    public async Task An_IPv6_address_is_compared_among_the_links_IPv6_addresses_its_state_shown(string cidr, bool present, bool held)
    {
        var (parts, _) = Context(_ => RecordingRunner.Ok(Addresses));

        var result = await new AddressExpectation(Place.Container("busybox-2"), "veth-4", cidr, present).ObserveAsync(parts.Context, Ct);

        Assert.Equal((held, "fd00:100::202/64 (tentative), fe80::f8c5:96ff:fe42:fa3e/64 (link-local, tentative)"), result);
    }

    [Fact]
    public async Task An_IPv4_address_ignores_the_link_local_IPv6_one()
    {
        var (parts, _) = Context(_ => RecordingRunner.Ok(Addresses));

        Assert.Equal((false, "no IPv4 address"), await new AddressExpectation(Place.Container("busybox-2"), "veth-4", "172.16.100.1/24", true).ObserveAsync(parts.Context, Ct));
        var (parts6, _) = Context(_ => RecordingRunner.Ok("""[{"ifname":"br-0","addr_info":[{"family":"inet","local":"172.16.100.1","prefixlen":24}]}]"""));
        Assert.Equal((false, "no IPv6 address"), await new AddressExpectation(Place.Host, "br-0", "fd00:100::1/64", true).ObserveAsync(parts6.Context, Ct));
    }

    [Fact]
    public async Task An_IPv6_ping_runs_busybox_ping_with_the_address_as_it_is()
    {
        var (parts, runner) = Context(_ => RecordingRunner.Ok("""
            PING fd00:100::1 (fd00:100::1): 56 data bytes
            64 bytes from fd00:100::1: seq=0 ttl=64 time=0.113 ms

            --- fd00:100::1 ping statistics ---
            1 packets transmitted, 1 packets received, 0% packet loss
            round-trip min/avg/max = 0.113/0.113/0.113 ms
            """));

        Assert.Equal((true, "1 sent, 1 received"), await new PingExpectation(Place.Netns("n1"), "fd00:100::1", true, 1).ObserveAsync(parts.Context, Ct));
        Assert.Equal("ip netns exec lr-ab12cd-n1 busybox ping -c 1 -W 1 fd00:100::1", runner.Displays[0]);
    }

    [Fact]
    public async Task A_ping_from_a_tentative_address_cannot_send_and_counts_as_no_answer()
    {
        var (parts, _) = Context(_ => new CommandOutcome(1, "PING fd00:100::1 (fd00:100::1): 56 data bytes\n", "ping: sendto: Cannot assign requested address\n", TimeSpan.Zero));

        Assert.True((await new PingExpectation(Place.Netns("n1"), "fd00:100::1", false, 2).ObserveAsync(parts.Context, Ct)).Held);
        Assert.False((await new PingExpectation(Place.Netns("n1"), "fd00:100::1", true, 1).ObserveAsync(parts.Context, Ct)).Held);
    }

    // ---------- the diagnosis of an IPv6 ping ----------

    private sealed class CannedRunner(Dictionary<string, string> answers) : ICommandRunner
    {
        public List<string> Asked { get; } = [];

        public bool IsDryRun => false;

        public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
        {
            Asked.Add(argv.Display());
            return Task.FromResult(answers.TryGetValue(argv.Display(), out var stdout)
                ? new CommandOutcome(0, stdout, "", TimeSpan.Zero)
                : new CommandOutcome(1, "", "not in the table", TimeSpan.Zero));
        }

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            throw new NotSupportedException("a diagnosis only reads");
    }

    private static LabSession DiagnosisSession()
    {
        var session = new LabSession("test01", sandbox: true, new Uplink("ens3", "192.168.64.6/24"));
        session.AddContainer(new ContainerHandle("busybox-1", "x", "101"));
        return session;
    }

    private static readonly IReadOnlyList<Place> DiagnosisPlaces = [Place.Host, Place.Container("busybox-1"), Place.Netns("outside")];

    /// <summary>The lab's step 6 expected to succeed: busybox-1 pings fd00:200::2 behind the host, which does not forward IPv6.</summary>
    private static Dictionary<string, string> NotForwarding() => new()
    {
        ["nsenter -t 101 -n ip -j route get fd00:200::2"] = """[{"dst":"fd00:200::2","from":"::","gateway":"fd00:100::1","dev":"veth-2","prefsrc":"fd00:100::101","metric":1024,"flags":[],"pref":"medium"}]""",
        ["nsenter -t 101 -n ip -j link show dev veth-2"] = """[{"ifname":"veth-2","operstate":"UP","address":"5e:0b:61:70:e6:eb"}]""",
        ["nsenter -t 101 -n ip -j neigh show to fd00:100::1 dev veth-2"] = """[{"dst":"fd00:100::1","dev":"veth-2","lladdr":"36:81:33:32:52:c4","state":["REACHABLE"]}]""",
        ["ip -n lr-test01 -j link show"] = """[{"ifname":"lo","address":"00:00:00:00:00:00"},{"ifname":"br-0","address":"36:81:33:32:52:c4"}]""",
        ["ip -n lr-test01 -j link show type bridge"] = """[{"ifname":"br-0"}]""",
        ["ip -n lr-test01 -j addr show"] = """[{"ifname":"br-0","addr_info":[{"family":"inet6","local":"fd00:100::1","prefixlen":64,"scope":"global"}]}]""",
        ["ip netns exec lr-test01 sysctl -n net.ipv6.conf.all.forwarding"] = "0\n",
        ["ip netns exec lr-test01 sysctl -n net.ipv4.ip_forward"] = "1\n",
    };

    [Fact]
    public async Task An_IPv6_ping_through_a_host_that_does_not_forward_IPv6_is_put_down_to_its_forwarding_switch()
    {
        var runner = new CannedRunner(NotForwarding());
        var findings = (await new LabRunner.Engine.Diagnosis.DiagnosisWalk(DiagnosisSession(), runner, () => DiagnosisPlaces).DiagnoseAsync(Place.Container("busybox-1"), "fd00:200::2", Ct)).Select(f => f.Text).ToList();

        Assert.Equal(
            [
                "busybox-1 sends to fd00:200::2 via veth-2, through the gateway fd00:100::1, from fd00:100::101",
                "neighbour discovery works: fd00:100::1 is at 36:81:33:32:52:c4 (br-0 in host), so layer 2 reaches it",
                "the gateway fd00:100::1 is host, which does not forward IPv6 (net.ipv6.conf.all.forwarding = 0)",
                "try: sysctl -w net.ipv6.conf.all.forwarding=1 in host",
            ], findings);
        Assert.DoesNotContain("ip netns exec lr-test01 sysctl -n net.bridge.bridge-nf-call-iptables", runner.Asked);
        Assert.Contains("ip netns exec lr-test01 sysctl -n net.bridge.bridge-nf-call-ip6tables", runner.Asked);
    }

    [Fact]
    public async Task An_unanswered_neighbour_solicitation_is_not_called_ARP()
    {
        var answers = NotForwarding();
        answers["nsenter -t 101 -n ip -j neigh show to fd00:100::1 dev veth-2"] = """[{"dst":"fd00:100::1","dev":"veth-2","state":["FAILED"]}]""";

        var findings = (await new LabRunner.Engine.Diagnosis.DiagnosisWalk(DiagnosisSession(), new CannedRunner(answers), () => DiagnosisPlaces).DiagnoseAsync(Place.Container("busybox-1"), "fd00:200::2", Ct)).Select(f => f.Text).ToList();

        Assert.StartsWith("neighbour discovery for fd00:100::1 on veth-2 got no answer (neighbour entry: FAILED)", findings[1]);
        Assert.Equal("fd00:100::1 is on host: check its route back to the sender, and its INPUT chain", findings[2]);
        Assert.DoesNotContain(findings, f => f.Contains("ARP", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bridged_IPv6_through_ip6tables_with_a_FORWARD_drop_policy_is_named_with_ip6tables()
    {
        var answers = NotForwarding();
        answers["nsenter -t 101 -n ip -j route get fd00:100::102"] = """[{"dst":"fd00:100::102","from":"::","dev":"veth-2","prefsrc":"fd00:100::101","flags":[]}]""";
        answers["nsenter -t 101 -n ip -j neigh show to fd00:100::102 dev veth-2"] = """[{"dst":"fd00:100::102","dev":"veth-2","lladdr":"fa:c5:96:42:fa:3e","state":["REACHABLE"]}]""";
        answers["ip netns exec lr-test01 sysctl -n net.bridge.bridge-nf-call-ip6tables"] = "1\n";
        answers["ip netns exec lr-test01 ip6tables -t filter -S FORWARD"] = "-P FORWARD DROP\n";

        var findings = (await new LabRunner.Engine.Diagnosis.DiagnosisWalk(DiagnosisSession(), new CannedRunner(answers), () => DiagnosisPlaces).DiagnoseAsync(Place.Container("busybox-1"), "fd00:100::102", Ct)).Select(f => f.Text).ToList();

        Assert.StartsWith("in host, bridged IPv6 frames of br-0 go through ip6tables (net.bridge.bridge-nf-call-ip6tables = 1) and the filter FORWARD policy is DROP", findings[2]);
        Assert.Equal("try: sysctl -w net.bridge.bridge-nf-call-ip6tables=0 in host (the article's fix), or an ACCEPT rule for this traffic in its FORWARD chain", findings[3]);
    }

    // ---------- the model, and C# ----------

    [Fact]
    public void A_link_set_down_loses_its_IPv6_addresses_in_the_model_as_in_the_kernel()
    {
        var lab = Scenarios.Load(Lab("""
                  - link-up: br-0
                  - address-add: { dev: br-0, address: fd00:100::1/64 }
                  - address-add: { dev: br-0, address: 172.16.100.1/24 }
                  - link-down: br-0
            """));

        var bridge = LabTopology.Of(lab).Nodes.Single(n => n.Key == "host").Links.Single(l => l.Name == "br-0");

        Assert.Equal(["172.16.100.1/24"], bridge.Addresses);
    }

    [Fact]
    public void The_CSharp_kinds_are_the_YAML_ones()
    {
        var yaml = Scenarios.Load(Lab("""
                  - address-add: { dev: br-0, address: fd00:100::1/64, dad: true }
                  - route-add: { in: busybox-1, to: default, via: fd00:100::1 }
            """, """
                expect:
                  - ping: { from: busybox-1, to: fd00:100::1 }
                  - neighbor: { in: busybox-1, ip: fd00:100::1, mac-of: { link: br-0 } }
                  - route: { in: busybox-1, to: default, via: fd00:100::1 }
                  - address: { dev: br-0, address: fd00:100::1/64 }
            """));
        var csharp = Authoring.Lab.Named("ipv6")
            .Step("a bridge and a container", s => s.Bridge("br-0").Container("busybox-1").Veth("veth-1", "veth-2").MoveLink("veth-2", "busybox-1", up: true))
            .Step("t", s => s.Address("br-0", "fd00:100::1/64", dad: true).Route("default", via: "fd00:100::1").In("busybox-1")
                .Expect.Ping("busybox-1", "fd00:100::1")
                .Expect.Neighbor("fd00:100::1", macOf: "br-0").In("busybox-1")
                .Expect.Route("default", via: "fd00:100::1").In("busybox-1")
                .Expect.Address("br-0", "fd00:100::1/64"))
            .Build();

        static object Strip(object x) => x switch { LabAction a => a with { Span = SourceSpan.None }, Expectation e => e with { Span = SourceSpan.None }, _ => x };
        Assert.Equal(yaml.Steps[1].Actions.Select(Strip), csharp.Steps[1].Actions.Select(Strip));
        Assert.Equal(yaml.Steps[1].Expectations.Select(Strip), csharp.Steps[1].Expectations.Select(Strip));
        Assert.True(((AddressAdd)csharp.Steps[1].Actions[0]).Dad);
    }

    [Fact]
    public void The_curriculum_lab_validates()
    {
        var lab = ScenarioLoader.LoadFile(Path.Combine(Repo.Root, "scenarios", "curriculum", "ipv6.yaml"));

        Assert.Empty(ScenarioValidator.Validate(lab));
    }
}
