using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Reporting;

namespace LabRunner.Tests.Shared;

/// <summary>
/// A recorded run made by hand, for the report specs (unit) and the browser specs: no lab, no root. The article's
/// section 2–3 in small: step 1 builds br-0 and busybox-1 (a `command` action gives veth-2 its address) and holds, with
/// the topology the kernel held after it; step 2 fails a ping, with its why-lines, and has a capture's counts and a
/// topology that could not be observed; step 3 never runs. Texts are hostile on purpose (&lt;, &gt;, &amp;, quotes, a
/// &lt;script&gt;): a report must show them as written. Compiled into both test projects (tests/Shared).
/// </summary>
public static class SampleRun
{
    public const string Lab = """
        lab: "bridge <lab> & friends"
        description: |
          Two containers on a bridge; the second cannot reach the first.

          The "why" lines say <what> drops it & where.
        steps:
          - title: "2.6 busybox-1 on br-0, with the address a command gives it"
            text: ip addr add 172.16.100.101/24 dev veth-2, inside busybox-1.
            actions:
              - bridge-add: br-0
              - container-run: busybox-1
              - veth-add: { name: veth-1, peer: veth-2 }
              - link-move: { name: veth-2, to: busybox-1, up: true }
              - bridge-attach: { bridge: br-0, link: veth-1 }
              - command:
                  argv: [nsenter, -t, "${busybox-1.pid}", -n, ip, addr, add, 172.16.100.101/24, dev, veth-2]
                  undo: none
            expect:
              - link: { name: lo, in: busybox-1, flags: [LOOPBACK, UP] }
          - title: "3.2 busybox-2 <script>alert('x')</script> reaches busybox-1"
            actions:
              - container-run: busybox-2
            expect:
              - capture:
                  while: { ping: { from: busybox-2, to: 172.16.100.101, count: 2 } }
                  on:
                    - { link: br-0, sees: ["icmp[icmptype] == icmp-echo"] }
              - ping: { from: busybox-2, to: 172.16.100.101 }
          - title: "3.3 never reached"
            expect:
              - ping: { from: busybox-2, to: 172.16.100.1 }
        """;

    /// <summary>The failed ping's why-lines, as the diagnosis writes them.</summary>
    public static readonly string[] Why =
    [
        "ARP works: 172.16.100.101 is at aa:aa:aa:aa:aa:02 (veth-2 in busybox-1), so layer 2 reaches it",
        "in host, <br-0> & friends drop it: bridged frames go through iptables (net.bridge.bridge-nf-call-iptables = 1) and FORWARD's policy is DROP",
    ];

    /// <summary>
    /// <c>ip -j -d addr show</c> in the sandbox host after the article's step 2.6, in the form iproute2 6.1 prints it:
    /// lo; ens3 (a veth whose peer wan0, index 2, is in the sandbox's far namespace, not observed); br-0 with its
    /// address; veth-1 on br-0, its peer index 2 in another namespace (busybox-1).
    /// </summary>
    public const string HostJson = """
        [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","promiscuity":0,"allmulti":0,"min_mtu":0,"max_mtu":0,"num_tx_queues":1,"num_rx_queues":1,"gso_max_size":65536,"gso_max_segs":65535,"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host","valid_life_time":4294967295,"preferred_life_time":4294967295}]},
         {"ifindex":3,"link_index":2,"ifname":"ens3","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"6e:1c:0b:55:1a:01","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth"},"num_tx_queues":1,"num_rx_queues":1,"addr_info":[{"family":"inet","local":"192.168.64.6","prefixlen":24,"scope":"global","label":"ens3","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::6c1c:bff:fe55:1a01","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]},
         {"ifindex":4,"ifname":"br-0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"1a:2b:3c:4d:5e:6f","broadcast":"ff:ff:ff:ff:ff:ff","promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"bridge","info_data":{"forward_delay":1500,"hello_time":200,"max_age":2000,"stp_state":0,"priority":32768,"vlan_filtering":0}},"num_tx_queues":1,"num_rx_queues":1,"addr_info":[{"family":"inet","local":"172.16.100.1","prefixlen":24,"scope":"global","label":"br-0","valid_life_time":4294967295,"preferred_life_time":4294967295}]},
         {"ifindex":5,"link_index":2,"ifname":"veth-1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","master":"br-0","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"52:9a:11:22:33:44","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":1,"promiscuity":1,"allmulti":1,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"state":"forwarding","priority":32,"cost":2}},"num_tx_queues":1,"num_rx_queues":1,"addr_info":[]}]
        """;

    /// <summary><c>ip -j -d addr show</c> in busybox-1 then: lo (down), and veth-2 (index 2, its peer index 5) with the address the `command` action set.</summary>
    public const string Busybox1Json = """
        [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK"],"mtu":65536,"qdisc":"noop","operstate":"DOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[]},
         {"ifindex":2,"link_index":5,"ifname":"veth-2","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"aa:aa:aa:aa:aa:02","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"promiscuity":0,"allmulti":0,"min_mtu":68,"max_mtu":65535,"linkinfo":{"info_kind":"veth"},"num_tx_queues":1,"num_rx_queues":1,"addr_info":[{"family":"inet","local":"172.16.100.101","prefixlen":24,"scope":"global","label":"veth-2","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::a8aa:aaff:feaa:aa02","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]
        """;

    public static Scenario Scenario() => ScenarioLoader.Load(Lab, "bridge.yaml");

    /// <summary>The run, as a <see cref="RunRecorder"/> keeps it from the engine's events.</summary>
    public static RunRecord Create()
    {
        var recorder = new RunRecorder();
        Play(recorder);
        return recorder.Record;
    }

    /// <summary>The run's events, in the engine's order, to any observer (a recorder, the JSON event stream).</summary>
    public static void Play(LabObserver recorder)
    {
        var lab = Scenario();
        recorder.LabStarting(lab, new LabSession("c0ffee", sandbox: true, lab.Uplink));
        recorder.CommandRan(Command(CommandPurpose.Setup, "ip netns add lr-c0ffee"));

        var one = lab.Steps[0];
        recorder.StepStarting(one, 0, 3);
        recorder.CommandRan(Command(CommandPurpose.Action, "ip -n lr-c0ffee link add name br-0 type bridge"));
        recorder.CommandRan(Command(CommandPurpose.Action, "nsenter -t 4242 -n ip addr add 172.16.100.101/24 dev veth-2"));
        recorder.CommandRan(Command(CommandPurpose.Check, "nsenter -t 4242 -n ip -j -d link show dev lo"));
        foreach (var action in one.Actions) recorder.ActionFinished(action, new ActionOutcome(ActionStatus.Done));
        recorder.ExpectationFinished(one.Expectations[0], new ExpectationResult(true, "lo in container busybox-1 has flags LOOPBACK, UP",
            "state UNKNOWN, flags <LOOPBACK,UP,LOWER_UP>, no master", 1, TimeSpan.FromMilliseconds(40)));
        recorder.TopologyObserved(one, TopologyObservation.Seen(new ObservedTopology(
        [
            ObservedTopology.Parse("host", "host", HostJson, "ens3"),
            ObservedTopology.Parse("container:busybox-1", "container busybox-1", Busybox1Json),
        ])));
        recorder.StepFinished(one, passed: true);

        var two = lab.Steps[1];
        recorder.StepStarting(two, 1, 3);
        recorder.CommandRan(Command(CommandPurpose.Action, "setsid unshare --net --uts --ipc -- busybox sleep 2147483647"));
        recorder.CommandRan(Command(CommandPurpose.Observe, "nsenter -t 4343 -n -u -- busybox ping -c 2 -i 0.2 -W 1 172.16.100.101", exitCode: 1));
        recorder.ActionFinished(two.Actions[0], new ActionOutcome(ActionStatus.Done));
        recorder.ExpectationFinished(two.Expectations[0], new ExpectationResult(true,
            "while busybox-2 pings 172.16.100.101: br-0 sees 'icmp[icmptype] == icmp-echo'",
            "ping: 2 packets transmitted, 0 packets received, 100% packet loss; br-0: 2 packets, 'icmp[icmptype] == icmp-echo' 2", 1, TimeSpan.FromSeconds(1.4)));
        recorder.ExpectationFinished(two.Expectations[1], new ExpectationResult(false, "ping from busybox-2 to 172.16.100.101 succeeds",
            "1 packets transmitted, 0 packets received, 100% packet loss", 48, TimeSpan.FromSeconds(5.1)) { Diagnosis = Why });
        recorder.TopologyObserved(two, TopologyObservation.NotSeen("container busybox-2 could not be read: nsenter: cannot open /proc/4343/ns/net: No such file or directory"));
        recorder.StepFinished(two, passed: false);

        recorder.TeardownStarting(3);
        recorder.CommandRan(Command(CommandPurpose.Teardown, "kill -KILL 4343"));
        recorder.CommandRan(Command(CommandPurpose.Teardown, "ip -n lr-c0ffee link delete veth-1", exitCode: 1));
        recorder.CommandRan(Command(CommandPurpose.Teardown, "ip netns delete lr-c0ffee"));
        var teardown = new TeardownReport(3, [], []) { AlreadyGone = ["ip -n lr-c0ffee link delete veth-1"], Elapsed = TimeSpan.FromSeconds(0.8) };
        recorder.TeardownFinished(teardown);
        recorder.LabFinished(new LabResult("c0ffee", LabOutcome.Failed, two.Title, ["x"], teardown, TimeSpan.FromSeconds(9.3)));
    }

    private static CommandEvent Command(CommandPurpose purpose, string line, int exitCode = 0) =>
        new(purpose, [.. line.Split(' ')], new CommandOutcome(exitCode, "", exitCode == 0 ? "" : "error", TimeSpan.Zero));
}
