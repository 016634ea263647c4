using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Reporting;
using LabRunner.Tests.Shared;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The topology a run observes (issue 15): each place's <c>ip -j -d addr show</c> read into links, veth ends paired
/// across namespaces, and the engine reading it after each step when asked, a failure leaving only the picture out.
/// The JSON is <see cref="SampleRun"/>'s (the article after step 2.6, in the form iproute2 6.1 prints).
/// </summary>
public sealed class ObservedTopologySpecs
{
    private static ObservedTopology Article() => new(
    [
        ObservedTopology.Parse("host", "host", SampleRun.HostJson, uplink: "ens3"),
        ObservedTopology.Parse("container:busybox-1", "container busybox-1", SampleRun.Busybox1Json),
    ]);

    [Fact]
    public void A_place_holds_its_links_with_kind_bridge_peer_index_addresses_and_state_but_not_lo()
    {
        var host = ObservedTopology.Parse("host", "host", SampleRun.HostJson, uplink: "ens3");

        Assert.Equal(["ens3", "br-0", "veth-1"], host.Links.Select(l => l.Name));
        var (ens3, bridge, veth) = (host.Links[0], host.Links[1], host.Links[2]);
        Assert.Equal("uplink", ens3.Kind);
        Assert.Equal(["192.168.64.6/24"], ens3.Addresses); // the link-local IPv6 address is left out
        Assert.Equal(("bridge", true, "UP"), (bridge.Kind, bridge.Up, bridge.State));
        Assert.Equal(["172.16.100.1/24"], bridge.Addresses);
        Assert.Equal(("veth", "br-0", 5, 2, true), (veth.Kind, veth.Master, veth.Index, veth.PeerIndex, veth.PeerElsewhere));
        Assert.Null(veth.PeerName);
    }

    [Fact]
    public void Veth_ends_in_two_namespaces_pair_by_their_indexes_both_ways_and_an_index_alone_pairs_nothing()
    {
        var nodes = Article().ToLabTopology().Nodes;

        var veth1 = nodes[0].Links.Single(l => l.Name == "veth-1");
        Assert.Equal(("veth-2", "container:busybox-1"), (veth1.PeerName, veth1.PeerPlace));
        var veth2 = nodes[1].Links.Single();
        Assert.Equal(("veth-1", "host"), (veth2.PeerName, veth2.PeerPlace));
        Assert.Equal(["172.16.100.101/24"], veth2.Addresses); // set by a `command` action: the lab file's model cannot know it
        // ens3's peer has index 2 in the sandbox's far namespace, as veth-2 has in busybox-1; veth-2 points back to 5, not 3.
        Assert.Null(nodes[0].Links.Single(l => l.Name == "ens3").PeerName);
    }

    [Fact]
    public void Two_candidates_for_one_end_leave_it_unpaired_rather_than_guessed()
    {
        const string twin = """[{"ifindex":2,"link_index":5,"ifname":"eth0","flags":["UP"],"operstate":"UP","link_netnsid":0,"linkinfo":{"info_kind":"veth"},"addr_info":[]}]""";
        var topology = new ObservedTopology(
        [
            ObservedTopology.Parse("host", "host", SampleRun.HostJson),
            ObservedTopology.Parse("container:a", "container a", twin),
            ObservedTopology.Parse("container:b", "container b", twin),
        ]);

        Assert.Null(topology.ToLabTopology().Nodes[0].Links.Single(l => l.Name == "veth-1").PeerName);
    }

    [Fact]
    public void A_pair_in_one_namespace_is_named_by_ip_and_a_vxlan_shows_its_id_and_a_down_link_its_state()
    {
        const string json = """
            [{"ifindex":7,"link":"b-1","ifname":"a-1","flags":["BROADCAST","MULTICAST","M-DOWN"],"mtu":1500,"qdisc":"noop","operstate":"DOWN","link_type":"ether","linkinfo":{"info_kind":"veth"},"addr_info":[]},
             {"ifindex":6,"link":"a-1","ifname":"b-1","flags":["BROADCAST","MULTICAST","M-DOWN"],"mtu":1500,"qdisc":"noop","operstate":"DOWN","link_type":"ether","linkinfo":{"info_kind":"veth"},"addr_info":[]},
             {"ifindex":8,"ifname":"vxlan0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"operstate":"UNKNOWN","link_type":"ether","linkinfo":{"info_kind":"vxlan","info_data":{"id":42,"remote":"10.0.0.2","local":"10.0.0.1","link":"eth0","port":4789}},"addr_info":[{"family":"inet6","local":"2001:db8::1","prefixlen":64,"scope":"global"}]}]
            """;

        var node = new ObservedTopology([ObservedTopology.Parse("netns:n1", "netns n1", json)]).ToLabTopology().Nodes.Single();

        Assert.Equal(("b-1", "netns:n1"), (node.Links[0].PeerName, node.Links[0].PeerPlace));
        Assert.False(node.Links[0].Up);
        Assert.Equal(("vxlan 42", true), (node.Links[2].Kind, node.Links[2].Up));
        Assert.Equal(["2001:db8::1/64"], node.Links[2].Addresses);
        Assert.Contains("\"netns:n1/a-1\" -- \"netns:n1/b-1\"", new ObservedTopology([ObservedTopology.Parse("netns:n1", "netns n1", json)]).ToLabTopology().ToDot());
    }

    [Fact]
    public void Its_drawing_shows_what_a_command_action_did_which_the_lab_files_drawing_cannot()
    {
        var dot = Article().ToLabTopology().ToDot();

        Assert.Contains("veth-2\\n172.16.100.101/24", dot);
        Assert.Contains("\"host/veth-1\" -- \"container:busybox-1/veth-2\" [class=\"veth\"", dot);
        Assert.Contains("\"host/br-0\" -- \"host/veth-1\" [class=\"port\"", dot);
        Assert.DoesNotContain("ens3\" --", dot);
    }

    [Fact]
    public void Empty_or_odd_output_is_read_without_failing_and_bad_JSON_is_an_error()
    {
        Assert.Empty(ObservedTopology.Parse("host", "host", "").Links);
        Assert.Empty(ObservedTopology.Parse("host", "host", """[{"ifindex":"x"},{"ifname":"lo"}]""").Links);
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => ObservedTopology.Parse("host", "host", "[{"));
    }

    // ---------- the engine: after each step, when asked ----------

    private const string Lab = """
        lab: observed
        steps:
          - title: "1 n1 and a veth pair into it"
            actions:
              - netns-add: n1
              - veth-add: { name: a-1, peer: b-1, peer-in: n1 }
          - title: "2 n1 goes"
            actions:
              - netns-delete: n1
        """;

    private const string N1Json = """[{"ifindex":2,"link_index":9,"ifname":"b-1","flags":["BROADCAST","MULTICAST"],"operstate":"DOWN","link_netnsid":0,"linkinfo":{"info_kind":"veth"},"addr_info":[]}]""";

    private const string HostA1Json = """[{"ifindex":9,"link_index":2,"ifname":"a-1","flags":["BROADCAST","MULTICAST"],"operstate":"DOWN","link_netnsid":1,"linkinfo":{"info_kind":"veth"},"addr_info":[]}]""";

    private static async Task<(RunRecord Run, RecordingRunner Runner)> RunAsync(bool observe, Func<IReadOnlyList<string>, CommandOutcome?> answer)
    {
        using var state = new TempDirectory();
        var runner = new RecordingRunner(argv => answer(argv) ?? RecordingRunner.Ok());
        var recorder = new RunRecorder();
        var engine = new LabEngine(runner, new FakeRuntime("process"), new CompositeObserver(recorder),
            new LabOptions { StateRoot = state.Path, LabId = "0b5e01", ObserveTopology = observe });
        await engine.RunAsync(Scenarios.Load(Lab), TestContext.Current.CancellationToken);
        return (recorder.Record, runner);
    }

    private static bool Is(IReadOnlyList<string> argv, string display) => argv.Display() == display;

    [Fact]
    public async Task With_ObserveTopology_each_step_records_the_kernels_topology_and_a_netns_that_is_gone_is_left_out()
    {
        var deleted = false;
        var (run, runner) = await RunAsync(observe: true, argv =>
        {
            if (Is(argv, "ip netns delete lr-0b5e01-n1")) deleted = true;
            if (Is(argv, "ip -n lr-0b5e01 -j -d addr show")) return RecordingRunner.Ok(deleted ? "[]" : HostA1Json);
            if (Is(argv, "ip -n lr-0b5e01-n1 -j -d addr show"))
                return deleted ? RecordingRunner.Failed(1, "Cannot open network namespace \"lr-0b5e01-n1\": No such file or directory") : RecordingRunner.Ok(N1Json);
            return null;
        });

        Assert.All(runner.Commands.Where(c => c.Display.EndsWith("-j -d addr show", StringComparison.Ordinal)), c => Assert.Equal(CommandPurpose.Check, c.Purpose));
        var first = run.Steps[0].Topology!.Topology!.ToLabTopology();
        Assert.Equal(["host", "netns n1"], first.Nodes.Select(n => n.Label));
        Assert.Equal(("b-1", "netns:n1"), (first.Nodes[0].Links[0].PeerName, first.Nodes[0].Links[0].PeerPlace));
        var second = run.Steps[1].Topology!.Topology!;
        Assert.Equal(["host"], second.Places.Select(p => p.Label));
        Assert.Empty(second.Places[0].Links);
    }

    [Fact]
    public async Task A_place_that_cannot_be_read_leaves_the_picture_out_with_the_reason_and_the_lab_runs_on()
    {
        var (run, _) = await RunAsync(observe: true, argv =>
            Is(argv, "ip -n lr-0b5e01-n1 -j -d addr show") ? RecordingRunner.Failed(255, "RTNETLINK answers: Operation not permitted") : null);

        Assert.Equal(2, run.Steps.Length);
        Assert.All(run.Steps, s => Assert.True(s.Passed));
        var missing = run.Steps[0].Topology!;
        Assert.Null(missing.Topology);
        Assert.Equal("netns n1 could not be read: RTNETLINK answers: Operation not permitted", missing.Missing);
    }

    [Fact]
    public async Task Unreadable_JSON_leaves_the_picture_out_too()
    {
        var (run, _) = await RunAsync(observe: true, argv => Is(argv, "ip -n lr-0b5e01 -j -d addr show") ? RecordingRunner.Ok("[{garbled") : null);

        Assert.StartsWith("host: ip's JSON could not be read", run.Steps[0].Topology!.Missing);
    }

    [Fact]
    public async Task Without_ObserveTopology_nothing_more_is_run_and_no_step_has_a_topology()
    {
        var (run, runner) = await RunAsync(observe: false, _ => null);

        Assert.DoesNotContain(runner.Displays, d => d.EndsWith("addr show", StringComparison.Ordinal));
        Assert.All(run.Steps, s => Assert.Null(s.Topology));
    }

    [Fact]
    public async Task With_host_only_the_labs_own_links_and_the_uplink_are_drawn_on_the_host_not_the_machines()
    {
        using var state = new TempDirectory();
        const string machine = """
            [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP"],"link_type":"loopback","addr_info":[]},
             {"ifindex":2,"ifname":"eth0","flags":["UP"],"operstate":"UP","link_type":"ether","addr_info":[{"family":"inet","local":"192.0.2.2","prefixlen":24}]},
             {"ifindex":3,"ifname":"docker0","flags":["UP"],"operstate":"DOWN","link_type":"ether","linkinfo":{"info_kind":"bridge"},"addr_info":[]},
             {"ifindex":4,"ifname":"ens3","flags":["UP"],"operstate":"UP","link_type":"ether","addr_info":[{"family":"inet","local":"192.168.64.6","prefixlen":24}]},
             {"ifindex":8,"link":"b-1","ifname":"a-1","flags":[],"operstate":"DOWN","link_type":"ether","linkinfo":{"info_kind":"veth"},"addr_info":[]},
             {"ifindex":7,"link":"a-1","ifname":"b-1","flags":[],"operstate":"DOWN","link_type":"ether","linkinfo":{"info_kind":"veth"},"addr_info":[]}]
            """;
        var runner = new RecordingRunner(argv => argv.Display() switch
        {
            "ip -j -d addr show" => RecordingRunner.Ok(machine),
            "ip -j addr show dev ens3" => RecordingRunner.Ok("""[{"ifname":"ens3","addr_info":[{"family":"inet","local":"192.168.64.6","prefixlen":24}]}]"""),
            var d when d.StartsWith("ip link show dev ", StringComparison.Ordinal) => RecordingRunner.Failed(1, $"Device \"{argv[^1]}\" does not exist."),
            _ => RecordingRunner.Ok(),
        });
        var recorder = new RunRecorder();
        var engine = new LabEngine(runner, new FakeRuntime("process"), new CompositeObserver(recorder),
            new LabOptions { StateRoot = state.Path, LabId = "0b5e02", Sandbox = false, ObserveTopology = true });

        await engine.RunAsync(Scenarios.Load("""
            lab: on the host
            steps:
              - title: "1 a veth pair"
                actions:
                  - veth-add: { name: a-1, peer: b-1 }
            """), TestContext.Current.CancellationToken);

        var host = Assert.Single(recorder.Record.Steps[0].Topology!.Topology!.Places);
        Assert.Equal(["ens3", "a-1", "b-1"], host.Links.Select(l => l.Name));
        Assert.Equal("uplink", host.Links[0].Kind);
    }
}
