using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// A connection-tracking entry (<c>conntrack -L</c>) in a place: a flow the kernel tracks, matched by its original
/// direction (protocol, source, destination, destination port) and, to see a NAT at work, by its reply direction: the
/// reply comes from <c>reply-src</c> (a DNAT's target: publish) and goes to <c>reply-dst</c> (a SNAT's or MASQUERADE's
/// address). With <c>present: false</c>, no such entry.
/// </summary>
public sealed partial record ConntrackExpectation(Place In, string Protocol, string? Src, string? Dst, int? Dport, string? ReplySrc, string? ReplyDst, bool Present)
    : Expectation
{
    public static readonly IReadOnlyList<string> Protocols = ["tcp", "udp", "icmp"];

    public static readonly ExpectationKind Kind = new("conntrack", "conntrack -L: a tracked flow, and the addresses its replies come from and go to (NAT)",
        [
            FieldSpec.In,
            new("protocol", FieldType.Choice, "tcp, udp or icmp", Required: true) { Choices = [.. Protocols] },
            new("src", FieldType.Ipv4, "the original source"),
            new("dst", FieldType.Ipv4, "the original destination"),
            new("dport", FieldType.Integer, "the original destination port (tcp, udp)") { Min = 1, Max = 65535 },
            new("reply-src", FieldType.Ipv4, "where the replies come from: a DNAT's target (publish)"),
            new("reply-dst", FieldType.Ipv4, "where the replies go: a SNAT's or MASQUERADE's address"),
            new("present", FieldType.Boolean, "whether such an entry must exist (default true)"),
        ],
        r =>
        {
            var place = r.PlaceOf();
            var protocol = r.Choice("protocol", Protocols, "unknown protocol '{0}'", "use tcp, udp or icmp", required: true);
            var src = r.Ip("src");
            var dst = r.Ip("dst");
            var dport = r.Int("dport", 1, 65535);
            if (dport is not null && protocol == "icmp") r.Error(r.SpanOf("dport"), "icmp has no ports", "remove 'dport', or use tcp or udp");
            var replySrc = r.Ip("reply-src");
            var replyDst = r.Ip("reply-dst");
            var present = r.Bool("present") ?? true;
            return protocol is null ? null : new ConntrackExpectation(place, protocol, src, dst, dport, replySrc, replyDst, present);
        }, rank: 85);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => [new("conntrack", "conntrack")];

    public override string Describe()
    {
        var flow = $"{Protocol}{(Src is null ? "" : " from " + Src)}{(Dst is null ? "" : " to " + Dst)}{(Dport is null ? "" : $":{Dport}")}";
        var nat = (ReplySrc is null ? "" : $", replies from {ReplySrc}") + (ReplyDst is null ? "" : $", replies to {ReplyDst}");
        return $"{In.Name} {(Present ? "tracks" : "does not track")} {flow}{nat}";
    }

    public override void Check(HostModel host) => host.Namespace(In);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        string[] argv =
        [
            "conntrack", "-L", "-p", Protocol, .. Src is null ? [] : new[] { "--orig-src", Src }, .. Dst is null ? [] : new[] { "--orig-dst", Dst },
            .. Dport is null ? [] : new[] { "--dport", Dport.Value.ToString(CultureInfo.InvariantCulture) },
        ];
        var outcome = await context.CheckAsync(context.Target(In).Exec(argv), ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var flows = Flows(outcome.Stdout).ToList();
        var matching = flows.Where(f => (ReplySrc is null || f.ReplySrc == ReplySrc) && (ReplyDst is null || f.ReplyDst == ReplyDst)).ToList();
        var seen = flows.Count == 0 ? "no such flow tracked"
            : string.Join("; ", flows.Take(3).Select(f => $"{f.OrigSrc} -> {f.OrigDst}, replies {f.ReplySrc} -> {f.ReplyDst}")) + (flows.Count > 3 ? $"; and {flows.Count - 3} more" : "");
        return (matching.Count > 0 == Present, seen);
    }

    /// <summary>A tracked flow: its original and reply directions' addresses.</summary>
    public sealed record Flow(string OrigSrc, string OrigDst, string ReplySrc, string ReplyDst);

    /// <summary>The flows of <c>conntrack -L</c>'s lines: the first src=/dst= pair is the original direction, the second the reply.</summary>
    public static IEnumerable<Flow> Flows(string listing)
    {
        foreach (var line in listing.Split('\n'))
        {
            var src = Address("src").Matches(line);
            var dst = Address("dst").Matches(line);
            if (src.Count >= 2 && dst.Count >= 2)
                yield return new Flow(src[0].Groups[1].Value, dst[0].Groups[1].Value, src[1].Groups[1].Value, dst[1].Groups[1].Value);
        }
    }

    private static Regex Address(string key) => key == "src" ? SrcAddress() : DstAddress();

    [GeneratedRegex(@"\bsrc=([0-9a-fA-F.:]+)")]
    private static partial Regex SrcAddress();

    [GeneratedRegex(@"\bdst=([0-9a-fA-F.:]+)")]
    private static partial Regex DstAddress();
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>A tracked flow (YAML <c>conntrack</c>), with the addresses its replies come from and go to (NAT at work).</summary>
    public static ExpectClause Conntrack(this ExpectationPicker expect, string protocol, string? src = null, string? dst = null, int? dport = null,
        string? replySrc = null, string? replyDst = null, bool present = true, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(ConntrackExpectation.Kind, file, line, ("protocol", protocol), ("src", src), ("dst", dst), ("dport", dport),
            ("reply-src", replySrc), ("reply-dst", replyDst), ("present", present));
}
