using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using LabRunner.Model;
using static LabRunner.Authoring.StepBuilder;

namespace LabRunner.Authoring;

/// <summary>
/// The expectations a step can add, each mirroring the YAML expectation of the same name. Reached through
/// <see cref="StepBuilder.Expect"/>; every method returns the step with the expectation added.
/// </summary>
public sealed class ExpectationPicker
{
    private readonly StepState _state;

    internal ExpectationPicker(StepState state) => _state = state;

    private ExpectClause Add(ExpectationDraft draft) => new(_state with { Expectations = _state.Expectations.Add(draft) });

    /// <summary>
    /// <c>ping</c> from a host, netns or container to an address (or "${uplink.ip}"): must succeed, or with
    /// <c>.Fails()</c> must get no answer.
    /// </summary>
    public PingClause Ping(string from, string to, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(_state with
        {
            Expectations = _state.Expectations.Add(new("ping", At(file, line), (c, d) =>
            {
                var source = c.Place(from, d.Span);
                var target = c.PingTarget(to, d.Span);
                return target is null ? null : new PingExpectation(source, target, d.Succeeds, d.Count ?? (d.Succeeds ? 1 : 2));
            }) { TakesPlace = false }),
        });

    /// <summary>
    /// The ARP entry for <paramref name="ip"/> exists (in <c>.In(x)</c>, default host), with MAC <paramref name="mac"/>,
    /// or the MAC of link <paramref name="macOf"/> in <paramref name="macOfIn"/> (MACs are random: known only at run time).
    /// </summary>
    public ExpectClause Neighbor(string ip, string? mac = null, string? macOf = null, string? macOfIn = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("neighbor", At(file, line), (c, d) =>
        {
            var address = c.Ip(ip, d.Span, "ip");
            if (ip is null) c.Error(d.Span, "'ip' is missing");
            var m = c.Mac(mac, d.Span);
            var ofLink = macOf is null ? null : c.Interface(macOf, d.Span, "macOf");
            var ofIn = macOf is null ? null : c.Place(macOfIn, d.Span);
            if (macOf is null && macOfIn is not null) c.Error(d.Span, "'macOfIn' needs 'macOf' (the link whose MAC is meant)");
            return address is null || (mac is not null && m is null) || (macOf is not null && ofLink is null)
                ? null
                : new NeighborExpectation(c.PlaceOf(d), address, m, ofLink, ofIn);
        }));

    /// <summary>
    /// A link's presence and properties; only those given are checked (YAML <c>link</c>). <paramref name="master"/>
    /// "none" means the link has no master.
    /// </summary>
    public ExpectClause Link(string name, bool present = true, string? state = null, string[]? flags = null, string? master = null,
        string? peer = null, string? peerIn = null, string? macOf = null, string? macOfIn = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("link", At(file, line), (c, d) =>
        {
            var n = c.Interface(name, d.Span, "name");
            var s = c.LinkState(state, d.Span);
            var f = flags is null ? [] : c.Interfaces(flags, d.Span, "flags");
            var noMaster = master == "none";
            var m = master is null || noMaster ? null : c.Interface(master, d.Span, "master");
            var p = peer is null ? null : c.Interface(peer, d.Span, "peer");
            var pIn = peerIn is null ? null : c.Place(peerIn, d.Span);
            var ofLink = macOf is null ? null : c.Interface(macOf, d.Span, "macOf");
            var ofIn = macOf is null ? null : c.Place(macOfIn, d.Span);
            if (macOf is null && macOfIn is not null) c.Error(d.Span, "'macOfIn' needs 'macOf' (the link whose MAC is meant)");
            if (n is null || (state is not null && s is null) || f is null || (master is not null && !noMaster && m is null) ||
                (peer is not null && p is null) || (macOf is not null && ofLink is null))
                return null;
            return new LinkExpectation(n, c.PlaceOf(d), present, s, f.Value, m, noMaster, p, pIn) { MacOfLink = ofLink, MacOfIn = ofIn };
        }));

    /// <summary>The exact set of links in a namespace (the article's "the container has only lo"), YAML <c>links</c>.</summary>
    public ExpectClause Links(string[] exactly, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("links", At(file, line), (c, d) =>
            c.Interfaces(exactly, d.Span, "exactly") is { } names ? new LinksExpectation(c.PlaceOf(d), names) : null));

    /// <summary>DEV has (or with present: false has not) the IPv4 address ADDRESS (YAML <c>address</c>).</summary>
    public ExpectClause Address(string dev, string address, bool present = true, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("address", At(file, line), (c, d) =>
        {
            var n = c.Interface(dev, d.Span, "dev");
            var a = c.Cidr(address, d.Span);
            return n is null || a is null ? null : new AddressExpectation(c.PlaceOf(d), n, a, present);
        }));

    /// <summary>A route to TO ("default" or a CIDR), optionally via a gateway and/or dev (YAML <c>route</c>).</summary>
    public ExpectClause Route(string to, string? dev = null, string? via = null, bool present = true,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("route", At(file, line), (c, d) =>
        {
            var destination = c.RouteDestination(to, d.Span);
            var device = dev is null ? null : c.Interface(dev, d.Span, "dev");
            var gateway = c.Ip(via, d.Span, "via");
            return destination is null || (dev is not null && device is null) || (via is not null && gateway is null)
                ? null
                : new RouteExpectation(c.PlaceOf(d), destination, device, gateway, present);
        }));

    /// <summary><c>sysctl -n KEY</c> prints VALUE (YAML <c>sysctl</c>).</summary>
    public ExpectClause Sysctl(string key, string value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("sysctl", At(file, line), (c, d) =>
        {
            var k = c.SysctlKey(key, d.Span);
            if (value is null) c.Error(d.Span, "'value' is missing");
            return k is null || value is null ? null : new SysctlExpectation(c.PlaceOf(d), k, value);
        }));

    /// <summary>The policy of an iptables chain (YAML <c>iptables-policy</c>).</summary>
    public ExpectClause IptablesPolicy(string chain, string policy, string table = "filter", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("iptables-policy", At(file, line), (c, d) =>
            c.Policy(table, chain, policy, d.Span) is { } p ? new IptablesPolicyExpectation(c.PlaceOf(d), p.Table, p.Chain, p.Policy) : null));

    /// <summary>The ports of a bridge, exactly (what brctl show lists); <c>[]</c> for none (YAML <c>bridge-ports</c>).</summary>
    public ExpectClause BridgePorts(string bridge, string[] ports, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("bridge-ports", At(file, line), (c, d) =>
        {
            var b = c.Interface(bridge, d.Span, "bridge");
            var p = c.Interfaces(ports, d.Span, "ports");
            return b is null || p is null ? null : new BridgePortsExpectation(b, c.PlaceOf(d), p.Value);
        }));

    /// <summary><c>ip netns ls</c> lists (or with present: false does not list) the lab's netns NAME (YAML <c>netns: {name}</c>).</summary>
    public ExpectClause Netns(string name, bool present = true, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("netns", At(file, line), (c, d) =>
        {
            var n = c.Object(name, d.Span, "netns");
            if (n is not null && c.Place(n, d.Span).Kind != PlaceKind.Netns)
            {
                c.Error(d.Span, $"'{n}' is a container, not a netns", "use Expect.NetnsSymlink for a container's /var/run/netns/PID");
                return null;
            }
            return n is null ? null : new NetnsExpectation(n, null, present);
        }) { TakesPlace = false });

    /// <summary>
    /// <c>ip netns ls</c> lists (or with present: false does not list) the /var/run/netns/PID symlink of a
    /// container (YAML <c>netns: {container}</c>).
    /// </summary>
    public ExpectClause NetnsSymlink(string container, bool present = true, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("netns", At(file, line), (c, d) =>
            c.Container(container, d.Span) is { } n ? new NetnsExpectation(null, n, present) : null) { TakesPlace = false });

    /// <summary>
    /// A literal command's exit code and/or output (YAML <c>command</c>); exit code 0 when neither is given.
    /// Arguments may use ${NAME.pid} and ${uplink.ip}.
    /// </summary>
    public ExpectClause Command(string[] argv, int? exitCode = null, string? outputContains = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("command", At(file, line), (c, d) =>
        {
            var a = c.Argv(argv, d.Span, "argv");
            if (exitCode is < 0 or > 255) c.Error(d.Span, $"'exitCode' must be a whole number from 0 to 255, not '{exitCode}'");
            var containsOk = outputContains is null || c.Template(outputContains, d.Span);
            var exit = exitCode is null && outputContains is null ? 0 : exitCode;
            return a is null || !containsOk || exitCode is < 0 or > 255 ? null : new CommandExpectation(c.PlaceOf(d), a.Value, exit, outputContains);
        }));

    /// <summary>
    /// Packets captured on links while <paramref name="pingFrom"/> pings <paramref name="pingTo"/> (YAML <c>capture</c>):
    /// on each link of <paramref name="on"/>, every <c>Sees</c> pcap filter must match a packet and no <c>Never</c>
    /// filter may, e.g. <c>new CaptureOn("veth-2", In: "busybox-1", Never: ["icmp"])</c>.
    /// </summary>
    public ExpectClause Capture(string pingFrom, string pingTo, CaptureOn[] on, int pingCount = 2,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("capture", At(file, line), (c, d) =>
        {
            var from = c.Place(pingFrom, d.Span);
            var to = c.PingTarget(pingTo, d.Span);
            if (pingCount is < 1 or > 20) c.Error(d.Span, $"'pingCount' must be a whole number from 1 to 20, not '{pingCount}'");
            if (on is null || on.Length == 0) c.Error(d.Span, "'on' must list at least one link to capture on", "e.g. [new CaptureOn(\"br-0\", Sees: [\"icmp\"])]");
            var points = ImmutableArray.CreateBuilder<CapturePoint>();
            foreach (var point in on ?? [])
            {
                var link = c.Interface(point.Link, d.Span, "Link");
                var sees = c.Filters(point.Sees, d.Span, "Sees");
                var never = c.Filters(point.Never, d.Span, "Never");
                if (sees.IsEmpty && never.IsEmpty) c.Error(d.Span, $"the capture on '{point.Link}' needs 'Sees' or 'Never'", "give pcap filters, e.g. Sees: [\"icmp\"]");
                if (link is not null) points.Add(new CapturePoint(link, c.Place(point.In, d.Span), sees, never) { Span = d.Span });
            }
            return to is null || on is null || points.Count != on.Length || pingCount is < 1 or > 20
                ? null
                : new CaptureExpectation(new CaptureTraffic(from, to, pingCount), points.ToImmutable());
        }) { TakesPlace = false });
}

/// <summary>
/// One link of a <see cref="ExpectationPicker.Capture"/>: where (<paramref name="In"/>: a netns or container, default
/// the host) and the pcap filters its packets must (<paramref name="Sees"/>) and must not (<paramref name="Never"/>) match.
/// </summary>
public sealed record CaptureOn(string Link, string? In = null, string[]? Sees = null, string[]? Never = null);

/// <summary>The step after an expectation: more of the step, or a modifier of that expectation.</summary>
public sealed class ExpectClause : StepBuilder
{
    internal ExpectClause(StepState state) : base(state)
    {
    }

    /// <summary>Where to look: "host" (the default), a netns or a container of the lab (YAML <c>in:</c>).</summary>
    public ExpectClause In(string place, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e with { In = place, InSpan = At(file, line) }));

    /// <summary>How long the expectation may take to hold (default 5 s); it is checked again and again until then.</summary>
    public ExpectClause Within(TimeSpan within, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e with { Within = within, WithinSpan = At(file, line) }));
}

/// <summary>The step after a ping expectation: more of the step, or a modifier of that ping.</summary>
public sealed class PingClause : StepBuilder
{
    internal PingClause(StepState state) : base(state)
    {
    }

    /// <summary>The ping must get no answer (the article's "100% packet loss"); 2 echo requests unless <see cref="Count"/> says otherwise.</summary>
    public PingClause Fails() => new(State.WithLastExpectation(e => e with { Succeeds = false }));

    /// <summary>The ping must get an answer (the default).</summary>
    public PingClause Succeeds() => new(State.WithLastExpectation(e => e with { Succeeds = true }));

    /// <summary>Echo requests to send, 1 to 20.</summary>
    public PingClause Count(int count, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e with { Count = count, CountSpan = At(file, line) }));

    /// <summary>How long the ping may take to give the expected result (default 5 s).</summary>
    public PingClause Within(TimeSpan within, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e with { Within = within, WithinSpan = At(file, line) }));
}
