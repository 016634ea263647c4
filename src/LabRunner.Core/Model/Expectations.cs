using System.Collections.Immutable;

namespace LabRunner.Model;

/// <summary>
/// What must hold after a step's actions. Evaluated again and again until it holds or
/// <see cref="Within"/> runs out, so real timing (ARP, carrier) never makes a lab flaky.
/// </summary>
public abstract record Expectation
{
    public static readonly TimeSpan DefaultWithin = TimeSpan.FromSeconds(5);

    public SourceSpan Span { get; init; } = SourceSpan.None;

    public TimeSpan Within { get; init; } = DefaultWithin;

    public abstract string Keyword { get; }

    /// <summary>One line for reports: what is expected, in the scenario's own names.</summary>
    public abstract string Describe();
}

public sealed record PingExpectation(Place From, string To, bool Succeeds, int Count) : Expectation
{
    public override string Keyword => "ping";

    public override string Describe() => $"ping from {From.Name} to {To} {(Succeeds ? "succeeds" : "fails")}";
}

/// <summary>
/// The neighbor (ARP) entry for <see cref="Ip"/> in <see cref="In"/> exists, and when <see cref="MacOfLink"/>
/// is set its MAC is that interface's MAC (resolved at run time: MACs are random).
/// </summary>
public sealed record NeighborExpectation(Place In, string Ip, string? Mac, string? MacOfLink, Place? MacOfIn)
    : Expectation
{
    public override string Keyword => "neighbor";

    public override string Describe() =>
        $"{In.Name} resolves {Ip} to " + (MacOfLink is not null ? $"the MAC of {MacOfLink} in {MacOfIn!.Name}" : Mac ?? "a MAC");
}

/// <summary>A link's presence and properties; only the properties given are checked.</summary>
public sealed record LinkExpectation(
    string Name,
    Place In,
    bool Present,
    string? State,
    ImmutableArray<string> Flags,
    string? Master,
    bool NoMaster,
    string? Peer,
    Place? PeerIn) : Expectation
{
    /// <summary>When set, the link's MAC must equal the MAC of this link (in <see cref="MacOfIn"/>).</summary>
    public string? MacOfLink { get; init; }

    public Place? MacOfIn { get; init; }
    public override string Keyword => "link";

    public override string Describe()
    {
        if (!Present) return $"{Name} absent from {In}";
        var parts = new List<string>();
        if (State is not null) parts.Add($"state {State}");
        if (!Flags.IsDefaultOrEmpty) parts.Add($"flags {string.Join(",", Flags)}");
        if (Master is not null) parts.Add($"master {Master}");
        if (NoMaster) parts.Add("no master");
        if (Peer is not null) parts.Add($"peer {Peer}");
        if (PeerIn is not null) parts.Add($"peer in {PeerIn}");
        if (MacOfLink is not null) parts.Add($"MAC of {MacOfLink} in {MacOfIn!.Name}");
        return $"{Name} present in {In}" + (parts.Count > 0 ? ": " + string.Join(", ", parts) : "");
    }
}

/// <summary>The exact set of links in a namespace (the article's "the container has only lo").</summary>
public sealed record LinksExpectation(Place In, ImmutableArray<string> Exactly) : Expectation
{
    public override string Keyword => "links";

    public override string Describe() => $"{In} has exactly the links [{string.Join(", ", Exactly)}]";
}

public sealed record AddressExpectation(Place In, string Device, string Cidr, bool Present) : Expectation
{
    public override string Keyword => "address";

    public override string Describe() => $"{Device} in {In} {(Present ? "has" : "does not have")} {Cidr}";
}

public sealed record RouteExpectation(Place In, string Destination, string? Device, string? Via, bool Present)
    : Expectation
{
    public override string Keyword => "route";

    public override string Describe() =>
        $"{In} {(Present ? "has" : "has no")} route {Destination}" + (Via is null ? "" : $" via {Via}") +
        (Device is null ? "" : $" dev {Device}");
}

public sealed record SysctlExpectation(Place In, string Key, string Value) : Expectation
{
    public override string Keyword => "sysctl";

    public override string Describe() => $"{Key} = {Value} in {In}";
}

public sealed record IptablesPolicyExpectation(Place In, string Table, string Chain, string Policy) : Expectation
{
    public override string Keyword => "iptables-policy";

    public override string Describe() => $"{Table} {Chain} policy is {Policy} in {In}";
}

/// <summary>The ports of a bridge, exactly (what brctl show lists).</summary>
public sealed record BridgePortsExpectation(string Bridge, Place In, ImmutableArray<string> Ports) : Expectation
{
    public override string Keyword => "bridge-ports";

    public override string Describe() =>
        $"bridge {Bridge} in {In} holds [{string.Join(", ", Ports)}]";
}

/// <summary>
/// Whether "ip netns ls" lists a lab namespace, or (with <see cref="Container"/>) the /var/run/netns/PID
/// symlink of a container.
/// </summary>
public sealed record NetnsExpectation(string? Name, string? Container, bool Present) : Expectation
{
    public override string Keyword => "netns";

    public override string Describe() =>
        (Name is not null ? $"netns {Name}" : $"netns symlink of {Container}") + (Present ? " listed" : " not listed");
}

/// <summary>A literal command's exit code and output; for what no other expectation covers.</summary>
public sealed record CommandExpectation(
    Place In,
    ImmutableArray<string> Argv,
    int? ExitCode,
    string? OutputContains) : Expectation
{
    public override string Keyword => "command";

    public override string Describe() =>
        $"`{string.Join(' ', Argv)}` in {In}" + (ExitCode is null ? "" : $" exits {ExitCode}") +
        (OutputContains is null ? "" : $" and prints \"{OutputContains}\"");
}

/// <summary>
/// Packets seen on links while traffic runs (the article's tcpdump on br-0, veth-4 and veth-2): a capture is started
/// on every link of <see cref="On"/>, <see cref="While"/> pings, the captures are stopped and each link's packets are
/// matched against pcap filter expressions (tcpdump's own language): each of <see cref="CapturePoint.Sees"/> must
/// match a packet, none of <see cref="CapturePoint.Never"/> may.
/// </summary>
public sealed record CaptureExpectation(CaptureTraffic While, ImmutableArray<CapturePoint> On) : Expectation
{
    public override string Keyword => "capture";

    public override string Describe() =>
        $"while {While.From.Name} pings {While.To}: " + string.Join("; ", On.Select(p => p.Describe()));
}

/// <summary>The traffic of a capture: <see cref="Count"/> pings from a place to an address (answered or not).</summary>
public sealed record CaptureTraffic(Place From, string To, int Count);

/// <summary>One link to capture on, and the pcap filters its packets must (<see cref="Sees"/>) and must not (<see cref="Never"/>) match.</summary>
public sealed record CapturePoint(string Link, Place In, ImmutableArray<string> Sees, ImmutableArray<string> Never)
{
    public SourceSpan Span { get; init; } = SourceSpan.None;

    public string Describe()
    {
        var parts = new List<string>();
        if (!Sees.IsDefaultOrEmpty) parts.Add("sees " + string.Join(", ", Sees.Select(f => $"'{f}'")));
        if (!Never.IsDefaultOrEmpty) parts.Add("never " + string.Join(", ", Never.Select(f => $"'{f}'")));
        return $"{Link}{(In.Kind == PlaceKind.Host ? "" : $" in {In.Name}")} {string.Join(" and ", parts)}";
    }
}
