using System.Runtime.CompilerServices;
using System.Collections.Immutable;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;
using LabRunner.Loading;

namespace LabRunner.Model;

/// <summary>
/// Packets seen on links while traffic runs (the article's tcpdump on br-0, veth-4 and veth-2): a capture is started
/// on every link of <see cref="On"/>, <see cref="While"/> pings, the captures are stopped and each link's packets are
/// matched against pcap filter expressions (tcpdump's own language): each of <see cref="CapturePoint.Sees"/> must
/// match a packet, none of <see cref="CapturePoint.Never"/> may.
/// </summary>
public sealed record CaptureExpectation(CaptureTraffic While, ImmutableArray<CapturePoint> On) : Expectation
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(CaptureExpectation? other) => other is not null && base.Equals(other) && While == other.While && Sequences.Equal(On, other.On);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), While, Sequences.Hash(On));

    private static readonly FieldSpec[] PointFields =
    [
        new("link", FieldType.Interface, "the link to capture on", Required: true),
        FieldSpec.In,
        new("sees", FieldType.Filters, "pcap filters that must each match a packet"),
        new("never", FieldType.Filters, "pcap filters that must match no packet"),
    ];

    public static readonly ExpectationKind Kind = new("capture", "tcpdump on links while a ping runs: pcap filters that match, or never do",
        [
            TrafficField("the traffic to capture", required: true),
            new("on", FieldType.MapList, "the links to capture on, each with its filters", Required: true) { Fields = [.. PointFields] },
        ],
        r =>
        {
            var traffic = ReadWhile(r);
            var points = ReadPoints(r);
            return traffic is null || points is null ? null : new CaptureExpectation(traffic, points.Value);
        }, rank: 120);

    /// <summary>'while: { ping: {...} }': traffic sent while something is watched (a capture, a <c>counter</c>).</summary>
    internal static FieldSpec TrafficField(string summary, bool required) =>
        new("while", FieldType.Map, summary)
        {
            Fields =
            [
                new("ping", FieldType.Map, "pings from a place to an address", Required: true)
                {
                    Fields =
                    [
                        new("from", FieldType.Place, "the host, netns or container that pings", Required: true),
                        new("to", FieldType.PingTarget, "an IPv4 or IPv6 address, or ${uplink.ip}", Required: true),
                        new("count", FieldType.Integer, "echo requests (default 2)") { Min = 1, Max = 20 },
                        new("on", FieldType.Name, "in a lab across hosts: the host the ping runs on, when not the capture's (docs/MULTI-HOST.md)"),
                    ],
                },
            ],
            Required = required,
        };

    public override string Keyword => Kind.Keyword;

    public override string Describe() =>
        $"while {While.From.Name}{(While.OnHost is null ? "" : $" on {While.OnHost}")} pings {While.To}: " + string.Join("; ", On.Select(p => p.Describe()));

    public override IEnumerable<string?> Templated => [While.To];

    public override IEnumerable<Tool> Tools => [new("tcpdump", "tcpdump")];

    /// <summary>
    /// The pinging place and the namespace of every capture point must be there when the capture runs (a capture on
    /// a stopped container's link is refused before anything runs). The links themselves are not required: a lab
    /// may capture on links its commands made, which the model does not know.
    /// </summary>
    public override void Check(HostModel host)
    {
        if (While.OnHost is null) host.Namespace(While.From); // on another host: that host's part knows its places
        foreach (var point in On) host.Namespace(point.In, point.Span);
    }

    public override Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct) =>
        context.Capture.ObserveAsync(While, On, ct);

    /// <summary>pcap filters are compiled by libpcap (tcpdump -d) before the lab changes anything.</summary>
    public override Task<ImmutableArray<ScenarioError>> PreflightAsync(ICommandRunner runner, CancellationToken ct) =>
        CaptureFilters.CheckAsync(On.SelectMany(p => p.Sees.Concat(p.Never).Select(f => (f, p.Span))), runner, ct: ct);

    /// <summary>'while: { ping: { from: busybox-2, to: 172.16.100.101, count: 2 } }': the traffic a capture watches.</summary>
    private static CaptureTraffic? ReadWhile(FieldReader r)
    {
        if (!r.Has("while"))
        {
            r.Error(r.Span, "'while' is missing", "say what traffic to capture: 'while: { ping: { from: busybox-2, to: 172.16.100.101 } }'");
            return null;
        }
        return ReadTraffic(r);
    }

    /// <summary>The traffic of a 'while' that is there: pings (also what a <c>counter</c> counts during).</summary>
    internal static CaptureTraffic? ReadTraffic(FieldReader r)
    {
        if (r.Map("while", "'while'") is not { } w) return null;
        CaptureTraffic? traffic = null;
        if (w.Has("ping") && w.Map("ping", "'ping'") is { } ping)
        {
            // On another host (a lab across hosts), 'from' is a place of that host: this one does not resolve it.
            var on = ping.String("on");
            var from = on is null ? ping.OptionalPlace("from")
                : ping.String("from") is { } name ? new Place(name == Place.Host.Name ? PlaceKind.Host : PlaceKind.Netns, name) : null;
            if (from is null && !ping.Has("from")) ping.Error(ping.Span, "'from' is missing", "name the host, netns or container that pings");
            var to = ping.Target("to", ipv6: true);
            var count = ping.Int("count", 1, 20) ?? 2;
            ping.RejectUnknownKeys("'ping'");
            traffic = from is null || to is null ? null : new CaptureTraffic(from, to, count) { OnHost = on, Span = on is null ? ping.Span : ping.SpanOf("on") };
        }
        else if (!w.Has("ping")) w.Error(w.Span, "'while' needs 'ping'", "e.g. 'while: { ping: { from: busybox-2, to: 172.16.100.101 } }'");
        w.RejectUnknownKeys("'while'");
        return traffic;
    }

    /// <summary>'on: [ { link: br-0, sees: [icmp] }, { link: veth-2, in: busybox-1, never: [icmp] } ]'.</summary>
    private static ImmutableArray<CapturePoint>? ReadPoints(FieldReader r)
    {
        if (!r.Has("on"))
        {
            r.Error(r.Span, "'on' is missing", "list the links to capture on: 'on: [ { link: br-0, sees: [icmp] } ]'");
            return null;
        }
        if (r.MapList("on", "'on'", "a capture point") is not { Count: > 0 } items)
        {
            r.Error(r.SpanOf("on"), "'on' must be a non-empty list of links to capture on", "e.g. 'on: [ { link: br-0, sees: [icmp] } ]'");
            return null;
        }
        var points = ImmutableArray.CreateBuilder<CapturePoint>();
        var ok = true;
        foreach (var p in items)
        {
            if (p is null) { ok = false; continue; }
            var link = p.Interface("link", required: true);
            var place = p.PlaceOf();
            var sees = Filters(p, "sees");
            var never = Filters(p, "never");
            if (sees.IsEmpty && never.IsEmpty)
                p.Error(p.Span, "a capture point needs 'sees' or 'never'", "give pcap filters, e.g. 'sees: [\"icmp[icmptype] == icmp-echo\"]' or 'never: [icmp]'");
            p.RejectUnknownKeys("a capture point");
            if (link is null) { ok = false; continue; }
            points.Add(new CapturePoint(link, place, sees, never) { Span = p.Span });
        }
        return ok ? points.ToImmutable() : null;
    }

    /// <summary>pcap filter expressions (tcpdump's language): their form here, libpcap compiles them before the lab starts.</summary>
    private static ImmutableArray<string> Filters(FieldReader r, string key)
    {
        var filters = r.StringList(key) ?? [];
        foreach (var f in filters)
            if (CaptureFilters.FormProblem(f, key) is { } problem) r.Error(r.SpanOf(key), problem.Message, problem.Hint);
        return filters;
    }
}

/// <summary>The traffic of a capture: <see cref="Count"/> pings from a place to an address (answered or not).</summary>
public sealed record CaptureTraffic(Place From, string To, int Count)
{
    /// <summary>In a lab across hosts: the host the ping runs on, when it is not the capture's; null: the capture's host.</summary>
    public string? OnHost { get; init; }

    public SourceSpan Span { get; init; } = SourceSpan.None;

    public bool Equals(CaptureTraffic? other) => other is not null && From == other.From && To == other.To && Count == other.Count && OnHost == other.OnHost;

    public override int GetHashCode() => HashCode.Combine(From, To, Count, OnHost);
}

/// <summary>One link to capture on, and the pcap filters its packets must (<see cref="Sees"/>) and must not (<see cref="Never"/>) match.</summary>
public sealed record CapturePoint(string Link, Place In, ImmutableArray<string> Sees, ImmutableArray<string> Never)
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(CapturePoint? other) =>
        other is not null && Link == other.Link && In == other.In && Sequences.Equal(Sees, other.Sees) && Sequences.Equal(Never, other.Never) && Span == other.Span;

    public override int GetHashCode() => HashCode.Combine(Link, In, Sequences.Hash(Sees), Sequences.Hash(Never), Span);

    public SourceSpan Span { get; init; } = SourceSpan.None;

    public string Describe()
    {
        var parts = new List<string>();
        if (!Sees.IsDefaultOrEmpty) parts.Add("sees " + string.Join(", ", Sees.Select(f => $"'{f}'")));
        if (!Never.IsDefaultOrEmpty) parts.Add("never " + string.Join(", ", Never.Select(f => $"'{f}'")));
        return $"{Link}{(In.Kind == PlaceKind.Host ? "" : $" in {In.Name}")} {string.Join(" and ", parts)}";
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>
    /// Packets captured on links while <paramref name="pingFrom"/> pings <paramref name="pingTo"/> (YAML <c>capture</c>):
    /// on each link of <paramref name="on"/>, every <c>Sees</c> pcap filter must match a packet and no <c>Never</c>
    /// filter may, e.g. <c>new CaptureOn("veth-2", In: "busybox-1", Never: ["icmp"])</c>.
    /// </summary>
    public static ExpectClause Capture(this ExpectationPicker expect, string pingFrom, string pingTo, CaptureOn[] on, int pingCount = 2,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        var at = StepBuilder.At(file, line);
        var points = on is null ? null : new ListValue([.. on.Select(p => (FieldValue)FieldValue.Map(at, ("link", p.Link), ("in", p.In), ("sees", p.Sees), ("never", p.Never)))], at);
        return expect.Add(CaptureExpectation.Kind, file, line,
            ("while", FieldValue.Map(at, ("ping", FieldValue.Map(at, ("from", pingFrom), ("to", pingTo), ("count", pingCount))))), ("on", points));
    }
}
