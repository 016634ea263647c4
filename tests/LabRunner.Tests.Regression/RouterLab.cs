namespace LabRunner.Tests.Regression;

/// <summary>
/// A topology of our own, beyond the article: two bridges, br-a (10.0.1.0/24) and br-b (10.0.2.0/24), each with
/// one host namespace on it (h1, h2), joined by a router namespace with a leg on each bridge and
/// net.ipv4.ip_forward=1. All of it inside the lab's sandbox.
/// <code>
///   h1 (10.0.1.10) ── br-a ── (10.0.1.1) router (10.0.2.1) ── br-b ── h2 (10.0.2.10)
/// </code>
/// </summary>
public sealed class RouterLab : LabFixture
{
    /// <summary>One subnet: its bridge, the host namespace on it, the router's leg, and their addresses.</summary>
    public sealed record Subnet(string Bridge, string Host, string HostIp, string RouterLeg, string RouterIp);

    public static readonly Subnet A = new("br-a", "h1", "10.0.1.10", "r-a", "10.0.1.1");
    public static readonly Subnet B = new("br-b", "h2", "10.0.2.10", "r-b", "10.0.2.1");
    public static readonly Subnet[] Subnets = [A, B];

    protected override Scenario CreateScenario() => Define(ipForward: "1").Build();

    /// <summary>The lab; <paramref name="ipForward"/> is the router's net.ipv4.ip_forward.</summary>
    public static LabBuilder Define(string ipForward) => Lab.Named("two-bridges-and-a-router")
        .Step("Two bridges", s => Subnets.Aggregate((StepBuilder)s, (step, n) => step
            .Bridge(n.Bridge)
            .LinkUp(n.Bridge)
            .Expect.Link(n.Bridge, flags: ["UP"])))
        .Step("One host namespace on each bridge, its default route via the router", s => Subnets.Aggregate((StepBuilder)s, (step, n) =>
            Leg(step.Netns(n.Host), n.Host, n.Bridge, $"{n.Host}-br", $"{n.HostIp}/24")
                .Route("default", via: n.RouterIp).In(n.Host)
                .Expect.Route("default", via: n.RouterIp).In(n.Host)))
        .Step("A router namespace with a leg on each bridge", s => Subnets.Aggregate((StepBuilder)s.Netns("router"), (step, n) =>
            Leg(step, "router", n.Bridge, $"{n.RouterLeg}-br", $"{n.RouterIp}/24", n.RouterLeg)
                .Expect.BridgePorts(n.Bridge, [$"{n.Host}-br", $"{n.RouterLeg}-br"])))
        .Step($"The router forwards: net.ipv4.ip_forward={ipForward}", s => s
            .Sysctl("net.ipv4.ip_forward", ipForward).In("router")
            .Expect.Sysctl("net.ipv4.ip_forward", ipForward).In("router")
            .Expect.Ping(from: "h1", to: A.RouterIp)
            .Expect.Ping(from: "h2", to: B.RouterIp));

    /// <summary>
    /// A veth from <paramref name="bridge"/> into <paramref name="netns"/>: the bridge end is a port, the other end
    /// gets <paramref name="cidr"/>; both up.
    /// </summary>
    private static StepBuilder Leg(StepBuilder s, string netns, string bridge, string port, string cidr, string inside = "eth0") => s
        .Veth(port, inside, peerIn: netns)
        .Attach(bridge, port)
        .LinkUp(port)
        .LinkUp(inside).In(netns)
        .Address(inside, cidr).In(netns)
        .Expect.Address(inside, cidr).In(netns);
}

/// <summary>Routing between the two bridges through the router namespace.</summary>
public sealed class RouterSpecs(RouterLab lab) : IClassFixture<RouterLab>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [LabFact]
    public async Task Pings_cross_the_router_both_ways_when_it_forwards() =>
        await lab.ExpectAsync(e => e
            .Ping(from: "h1", to: RouterLab.B.HostIp)
            .Expect.Ping(from: "h2", to: RouterLab.A.HostIp), Ct);

    [LabFact]
    public async Task With_ip_forward_0_pings_across_fail_but_the_router_still_answers_on_both_legs()
    {
        await lab.RunStepAsync("The router stops forwarding", s => s
            .Sysctl("net.ipv4.ip_forward", "0").In("router")
            .Expect.Ping(from: "h1", to: RouterLab.B.HostIp).Fails()
            .Expect.Ping(from: "h2", to: RouterLab.A.HostIp).Fails()
            .Expect.Ping(from: "h1", to: RouterLab.B.RouterIp) // its own address: delivered locally, not forwarded
            .Expect.Ping(from: "h1", to: RouterLab.A.RouterIp), Ct);

        await lab.RunStepAsync("The router forwards again", s => s
            .Sysctl("net.ipv4.ip_forward", "1").In("router")
            .Expect.Ping(from: "h1", to: RouterLab.B.HostIp), Ct);
    }

    [LabFact]
    public async Task Each_host_routes_through_its_own_leg_of_the_router() =>
        await lab.ExpectAsync(e => e
            .Route("default", via: RouterLab.A.RouterIp).In("h1")
            .Expect.Route("default", via: RouterLab.B.RouterIp).In("h2")
            .Expect.Route("default", present: false).In("router")
            .Expect.Route("10.0.1.0/24", dev: "r-a").In("router")
            .Expect.Route("10.0.2.0/24", dev: "r-b").In("router"), Ct);
}
