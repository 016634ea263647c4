namespace LabRunner.Tests.Regression;

/// <summary>
/// The article "Understanding container networking quickly", in C#: the same steps and observations as
/// scenarios/article/article.yaml, with helpers where the article repeats itself. Built once for
/// <see cref="ArticleSpecs"/>: every step's expectations are checked while it is built.
/// </summary>
public sealed class ArticleLab : LabFixture
{
    public const string Bridge = "br-0";
    public const string BridgeIp = "172.16.100.1";

    /// <summary>The two containers on br-0: name, host end, container end, address.</summary>
    public static readonly (string Name, string HostEnd, string ContainerEnd, string Ip)[] Containers =
    [
        ("busybox-1", "veth-1", "veth-2", "172.16.100.101"),
        ("busybox-2", "veth-3", "veth-4", "172.16.100.102"),
    ];

    protected override Scenario CreateScenario() => Define().Build();

    public static LabBuilder Define() => Lab.Named("article-in-csharp")
        .WithUplink("ens3", "192.168.64.6/24")
        .Step("0 The article's host runs Docker", s => s
            .IptablesPolicy("FORWARD", "DROP")
            .Sysctl("net.bridge.bridge-nf-call-iptables", "1")
            .Expect.IptablesPolicy("FORWARD", "DROP"))

        // 1. veth and bridge
        .Step("1.1 The host before the lab", s => s
            .Expect.Link("ens3", state: "UP")
            .Expect.Address("ens3", "192.168.64.6/24"))
        .Step("1.2 A namespace and a veth pair", s => s
            .Netns("n1")
            .Veth("veth-1", "veth-2")
            .Expect.Netns("n1")
            .Expect.Link("veth-1", state: "DOWN", peer: "veth-2")
            .Expect.Link("veth-2", state: "DOWN", peer: "veth-1"))
        .Step("1.3 veth-2 moves into n1", s => s
            .MoveLink("veth-2", to: "n1", up: true)
            .Expect.Link("veth-2", present: false)
            .Expect.Link("veth-1", state: "DOWN", peer: "veth-2", peerIn: "n1")
            .Expect.Link("veth-2", state: "LOWERLAYERDOWN", flags: ["NO-CARRIER", "UP"]).In("n1")
            .Expect.Links(["lo", "veth-2"]).In("n1"))
        .Step("1.4 A veth end cannot be paired twice", s => s
            .Veth("veth-3", "veth-1").FailsWith("RTNETLINK answers: File exists")
            .Expect.Link("veth-3", present: false))
        .Step("1.5 A bridge", s => s
            .Bridge(Bridge)
            .Expect.Link(Bridge, state: "DOWN")
            .Expect.BridgePorts(Bridge, []))
        .Step("1.6 Two veth ends on the bridge", s => s
            .Veth("veth-3", "veth-4")
            .Attach(Bridge, "veth-1")
            .Attach(Bridge, "veth-3")
            .Expect.BridgePorts(Bridge, ["veth-1", "veth-3"])
            .Expect.Link("veth-4", master: "none"))
        .Step("Section 1 is removed, except br-0", s => s
            .DeleteNetns("n1")
            .DeleteLink("veth-3")
            .Expect.Link("veth-1", present: false)
            .Expect.Link("veth-4", present: false)
            .Expect.BridgePorts(Bridge, []))

        // 2. Container <-> host
        .Step("2.1 A busybox container has only lo", s => s
            .Container("busybox-1")
            .Expect.Links(["lo"]).In("busybox-1")
            .Expect.Command(["test", "-d", "/proc/${busybox-1.pid}/net"]))
        .Step("2.3 busybox-1 on br-0; br-0 gets the subnet's first address", s => OnBridge(s, Containers[0])
            .LinkUp(Bridge)
            .Address(Bridge, $"{BridgeIp}/24")
            .Expect.Link("veth-1", master: Bridge, state: "UP", peer: "veth-2", peerIn: "busybox-1"))
        .Step("2.4 ip netns cannot see the container's namespace", s => s
            .Command(["ip", "netns", "exec", "${busybox-1.pid}", "ip", "a"], undo: null)
                .FailsWith("Cannot open network namespace \"${busybox-1.pid}\": No such file or directory"))
        .Step("2.5-2.6 Linked into /var/run/netns; address and default route inside", s => Addressed(s.NetnsSymlink("busybox-1"), Containers[0])
            .Expect.NetnsSymlink("busybox-1"))
        .Step("2.7 busybox-1 reaches br-0 and the host's uplink", s => s
            .Expect.Ping(from: "busybox-1", to: BridgeIp)
            .Expect.Ping(from: "busybox-1", to: "${uplink.ip}"))

        // 3. Container <-> container
        .Step("3.1 busybox-2 on br-0", s => Addressed(OnBridge(s.Container("busybox-2"), Containers[1]).NetnsSymlink("busybox-2"), Containers[1])
            .Expect.BridgePorts(Bridge, ["veth-1", "veth-3"]))
        .Step("3.2 busybox-2 cannot reach busybox-1", s => s
            .Expect.Ping(from: "busybox-2", to: "172.16.100.101").Fails())
        .Step("3.3-3.4 busybox-2 reaches br-0, and ARP is correct", s => s
            .Expect.Ping(from: "busybox-2", to: BridgeIp)
            .Expect.Neighbor(BridgeIp, macOf: Bridge).In("busybox-2")
            .Expect.Neighbor("172.16.100.101", macOf: "veth-2", macOfIn: "busybox-1").In("busybox-2"))
        .Step("3.6 br_netfilter sends bridged frames through iptables", s => s
            .Expect.Sysctl("net.bridge.bridge-nf-call-iptables", "1"))
        .Step("3.7 Bridged frames no longer go through iptables", s => BridgeNetfilter(s, "0"))
        .Step("3.8 busybox-2 reaches busybox-1", s => s
            .Expect.Ping(from: "busybox-2", to: "172.16.100.101"))

        // 4. Containers sharing one network namespace
        .Step("4.1-4.2 busybox-3 joins busybox-1's network namespace", s => s
            .Container("busybox-3", netnsOf: "busybox-1")
            .Expect.Links(["lo", "veth-2"]).In("busybox-3")
            .Expect.Address("veth-2", "172.16.100.101/24").In("busybox-3")
            .Expect.Ping(from: "busybox-3", to: "172.16.100.102"));

    /// <summary>The article's wiring of a container to br-0: a veth pair, one end moved in by PID, the other a bridge port.</summary>
    private static StepBuilder OnBridge(StepBuilder s, (string Name, string HostEnd, string ContainerEnd, string Ip) c) => s
        .Veth(c.HostEnd, c.ContainerEnd)
        .MoveLink(c.ContainerEnd, to: c.Name, up: true)
        .Attach(Bridge, c.HostEnd)
        .LinkUp(c.HostEnd);

    /// <summary>The container's address on br-0's subnet and its default route, as `ip netns exec PID ...` does.</summary>
    private static StepBuilder Addressed(StepBuilder s, (string Name, string HostEnd, string ContainerEnd, string Ip) c) => s
        .Address(c.ContainerEnd, $"{c.Ip}/24").In(c.Name)
        .Route("default", dev: c.ContainerEnd).In(c.Name)
        .Expect.Address(c.ContainerEnd, $"{c.Ip}/24").In(c.Name)
        .Expect.Route("default", dev: c.ContainerEnd).In(c.Name);

    /// <summary>All three net.bridge.bridge-nf-call-* sysctls, as step 3.7 sets them.</summary>
    public static StepBuilder BridgeNetfilter(StepBuilder s, string value)
    {
        foreach (var table in new[] { "arptables", "ip6tables", "iptables" })
            s = s.Sysctl($"net.bridge.bridge-nf-call-{table}", value);
        return s.Expect.Sysctl("net.bridge.bridge-nf-call-iptables", value);
    }
}
