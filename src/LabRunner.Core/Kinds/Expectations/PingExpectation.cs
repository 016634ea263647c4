using System.Runtime.CompilerServices;
using System.Globalization;
using System.Text.RegularExpressions;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>A ping from a place to an address gets an answer (or, with Succeeds false, gets none); a failure is diagnosed.</summary>
public sealed partial record PingExpectation(Place From, string To, bool Succeeds, int Count) : Expectation
{
    public static readonly ExpectationKind Kind = new("ping", "ping -c COUNT TO from a place: answered, or not",
        [
            new("from", FieldType.Place, "the host, netns or container that pings", Required: true),
            new("to", FieldType.PingTarget, "an IPv4 or IPv6 address, or ${uplink.ip}", Required: true),
            new("succeeds", FieldType.Boolean, "whether it must be answered (default true)"),
            new("count", FieldType.Integer, "echo requests (default 1, or 2 when it must fail)") { Min = 1, Max = 20 },
            new("size", FieldType.Integer, "data bytes in each echo request (ping -s; default 56)") { Min = 0, Max = 65507 },
            new("rtt-below", FieldType.Duration, "the average round trip must be shorter, e.g. 50ms (a netem delay, a slow path)"),
        ],
        r =>
        {
            var from = r.OptionalPlace("from");
            if (from is null) r.Error(r.Span, "'from' is missing", "name the host, netns or container that pings");
            var to = r.Target("to", ipv6: true);
            var succeeds = r.Bool("succeeds") ?? true;
            var count = r.Int("count", 1, 20) ?? (succeeds ? 1 : 2);
            var size = r.Int("size", 0, 65507);
            var rttBelow = r.Duration("rtt-below");
            if (rttBelow is not null && !succeeds) r.Error(r.SpanOf("rtt-below"), "'rtt-below' needs answers", "remove it, or expect the ping to succeed");
            return from is null || to is null ? null : new PingExpectation(from, to, succeeds, count) { Size = size, RttBelow = rttBelow };
        }, rank: 10);

    /// <summary>Data bytes in each echo request (<c>ping -s</c>); null: ping's default, 56.</summary>
    public int? Size { get; init; }

    /// <summary>The average round trip must be shorter than this; null: any.</summary>
    public TimeSpan? RttBelow { get; init; }

    public override string Keyword => Kind.Keyword;

    public override string Describe() =>
        $"ping from {From.Name} to {To}{(Size is { } size ? $" with {size} data bytes" : "")} {(Succeeds ? "succeeds" : "fails")}" +
        (RttBelow is { } rtt ? $" in under {rtt.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms" : "");

    public override IEnumerable<string?> Templated => [To];

    public override void Check(HostModel host) => host.Namespace(From);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        string[] options = Size is { } size ? ["-s", size.ToString(CultureInfo.InvariantCulture)] : [];
        var outcome = await context.Places.PingAsync(From, To, Count, CommandPurpose.Check, ct, options);
        var match = PingSummary().Match(outcome.Stdout);
        var received = match.Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
        var observed = match.Success
            ? $"{match.Groups[1].Value} sent, {received} received" + (received == 0 ? " (100% packet loss)" : "")
            : $"ping did not run: {outcome.Error}";
        if (RttBelow is { } below && received > 0)
        {
            var average = AverageRtt(outcome.Stdout);
            observed += average is { } avg ? $", round trip {avg.ToString("0.###", CultureInfo.InvariantCulture)} ms on average" : ", no round-trip times printed";
            return (average is { } a && a < below.TotalMilliseconds, observed);
        }
        return (Succeeds ? received > 0 : match.Success && received == 0 || !match.Success && outcome.ExitCode is > 0 and < 124, observed);
    }

    /// <summary>A ping that should have been answered is the failure people ask "why?" about: look along its path.</summary>
    public override async Task<IReadOnlyList<string>> DiagnoseAsync(ObserveContext context, CancellationToken ct) =>
        Succeeds ? await context.Diagnosis.DiagnoseAsync(From, To, ct) : [];

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) (?:packets )?received")]
    private static partial Regex PingSummary();

    /// <summary>The average of ping's summary, "round-trip min/avg/max = 0.041/0.052/0.070 ms" (busybox; iputils says rtt …/mdev).</summary>
    public static double? AverageRtt(string stdout) =>
        RttSummary().Match(stdout) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"(?:round-trip|rtt) min/avg/max(?:/mdev)? = [\d.]+/([\d.]+)/")]
    private static partial Regex RttSummary();
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>
    /// <c>ping</c> from a host, netns or container to an address (or "${uplink.ip}"): must succeed, or with
    /// <c>.Fails()</c> must get no answer.
    /// </summary>
    public static PingClause Ping(this ExpectationPicker expect, string from, string to, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new PingClause(expect.With(PingExpectation.Kind, file, line, ("from", from), ("to", to)));
}
