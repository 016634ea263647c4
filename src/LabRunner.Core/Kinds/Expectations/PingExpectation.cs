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
            new("dont-fragment", FieldType.Boolean, "send with DF set, never fragmented (iputils ping -M do; default false): an MTU too small on the path drops it"),
            CommonFields.Why,
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
            var dontFragment = r.Bool("dont-fragment") ?? false;
            var why = CommonFields.ReadWhy(r);
            if (!why.IsEmpty && succeeds)
                r.Error(r.SpanOf("why"), "'why' explains an expected failure", "add 'succeeds: false', or remove 'why' (a failed ping is explained anyway)");
            return from is null || to is null ? null : new PingExpectation(from, to, succeeds, count) { Size = size, RttBelow = rttBelow, DontFragment = dontFragment, Why = why };
        }, rank: 10);

    /// <summary>Data bytes in each echo request (<c>ping -s</c>); null: ping's default, 56.</summary>
    public int? Size { get; init; }

    /// <summary>The average round trip must be shorter than this; null: any.</summary>
    public TimeSpan? RttBelow { get; init; }

    /// <summary>Sent with DF (iputils <c>ping -M do</c>, run in the place's namespace from outside: busybox ping cannot set it).</summary>
    public bool DontFragment { get; init; }

    /// <summary>
    /// A ping that must be answered goes beside the step's other such pings; one that must fail, has a <c>why</c> or
    /// measures its round trip does not (its diagnosis, or its timing, would see the others' packets).
    /// </summary>
    public override bool ObservedAlongside => Succeeds && Why.IsEmpty && RttBelow is null;

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => DontFragment ? [new(IputilsPing, "iputils-ping")] : [];

    /// <summary>Debian's iputils ping, which sets DF (-M do); busybox's cannot.</summary>
    public const string IputilsPing = "/usr/bin/ping";

    public override string Describe() =>
        $"ping from {From.Name} to {To}{(Size is { } size ? $" with {size} data bytes" : "")}{(DontFragment ? " with DF set" : "")} {(Succeeds ? "succeeds" : "fails")}" +
        (RttBelow is { } rtt ? $" in under {rtt.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms" : "") +
        (Why.IsEmpty ? "" : $", explained by {string.Join(", ", Why)}");

    public override IEnumerable<string?> Templated => [To];

    public override void Check(HostModel host) => host.Namespace(From);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var outcome = await PingAsync(context, Count, ct);
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

    /// <summary>busybox ping in the place, or with DF iputils ping in its namespace (a container's too, entered from outside).</summary>
    private Task<CommandOutcome> PingAsync(ObserveContext context, int count, CancellationToken ct)
    {
        string[] size = Size is { } s ? ["-s", s.ToString(CultureInfo.InvariantCulture)] : [];
        if (!DontFragment) return context.Places.PingAsync(From, To, count, CommandPurpose.Check, ct, size);
        return context.Runner.RunAsync(context.Target(From).Exec([IputilsPing, "-M", "do", .. size, "-c", count.ToString(CultureInfo.InvariantCulture),
            "-W", "1", context.Session.Expand(To)]), CommandPurpose.Check, ct);
    }

    /// <summary>
    /// A ping that got no answer (expected to succeed, or expected to fail with a <c>why</c>) is the failure people ask
    /// "why?" about: look along its path; the probe pings again (2 echo requests) while counters are read.
    /// </summary>
    public override async Task<IReadOnlyList<Engine.Diagnosis.Finding>> DiagnoseAsync(ObserveContext context, bool held, CancellationToken ct) =>
        held != Succeeds
            ? await context.Diagnosis.DiagnoseAsync(new Engine.Diagnosis.DiagnosisProbe(From, To, Size: Size, DontFragment: DontFragment,
                ResendAsync: c => PingAsync(context, 2, c)), ct)
            : [];

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
