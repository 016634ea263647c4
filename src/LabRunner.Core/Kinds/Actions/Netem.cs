using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// <c>tc qdisc add dev LINK root netem ...</c>: a bad network on a link's way out (delay with jitter, loss,
/// duplicates, reordering, a rate), for labs on what a slow or lossy path does to ping and TCP. Undone by deleting the
/// root qdisc (the link's default comes back). Needs the kernel's sch_netem.
/// </summary>
public sealed partial record Netem(string Link, Place In) : LabAction
{
    /// <summary>Delay added to every packet; null: none.</summary>
    public TimeSpan? Delay { get; init; }

    /// <summary>Random variation of the delay (needs a delay).</summary>
    public TimeSpan? Jitter { get; init; }

    /// <summary>Percentages as tc takes them ("10%"), null when not asked for.</summary>
    public string? Loss { get; init; }

    public string? Duplicate { get; init; }

    public string? Reorder { get; init; }

    /// <summary>A rate as tc writes it: 1mbit, 500kbit.</summary>
    public string? Rate { get; init; }

    public static readonly ActionKind Kind = new("netem", "tc qdisc add dev LINK root netem [delay D [JITTER]] [loss P%] [duplicate P%] [reorder P%] [rate R]",
        [
            new("link", FieldType.Interface, "the link whose outgoing packets are delayed, lost, ...", Required: true),
            new("delay", FieldType.Duration, "added to every packet, e.g. 100ms"),
            new("jitter", FieldType.Duration, "random variation of the delay, e.g. 10ms (needs delay)"),
            new("loss", FieldType.Text, "the share of packets dropped, e.g. 10%"),
            new("duplicate", FieldType.Text, "the share of packets sent twice, e.g. 1%"),
            new("reorder", FieldType.Text, "the share of packets sent at once, ahead of delayed ones, e.g. 25% (needs delay)"),
            new("rate", FieldType.Text, "the link's rate, e.g. 1mbit, 500kbit"),
            FieldSpec.In,
        ],
        r =>
        {
            var link = r.Interface("link", required: true);
            var delay = r.Duration("delay");
            var jitter = r.Duration("jitter");
            string? Percent(string key)
            {
                var text = r.String(key);
                if (text is not null && !(PercentPattern().IsMatch(text) && double.Parse(text.TrimEnd('%'), CultureInfo.InvariantCulture) <= 100))
                    r.Error(r.SpanOf(key), $"'{key}' must be a percentage from 0% to 100%, e.g. 10% or 0.5%, not '{text}'");
                return text;
            }
            var loss = Percent("loss");
            var duplicate = Percent("duplicate");
            var reorder = Percent("reorder");
            var rate = r.String("rate");
            if (rate is not null && !RatePattern().IsMatch(rate))
                r.Error(r.SpanOf("rate"), $"'rate' must be a rate as tc writes it, e.g. 1mbit, 500kbit or 10gbit, not '{rate}'");
            if (jitter is not null && delay is null) r.Error(r.SpanOf("jitter"), "'jitter' varies a delay", "add 'delay', e.g. delay: 100ms");
            if (reorder is not null && delay is null)
                r.Error(r.SpanOf("reorder"), "'reorder' sends some packets ahead of delayed ones", "add 'delay', e.g. delay: 10ms");
            if (delay is null && jitter is null && loss is null && duplicate is null && reorder is null && rate is null)
                r.Error(r.Span, "netem changes nothing", "give at least one of delay, loss, duplicate, reorder or rate");
            return link is null ? null : new Netem(link, r.PlaceOf())
            {
                Delay = delay, Jitter = jitter, Loss = loss, Duplicate = duplicate, Reorder = reorder, Rate = rate,
            };
        }, rank: 145);

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?%$")]
    private static partial Regex PercentPattern();

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?([kmgt]?bit|[kmgt]?bps)$")]
    private static partial Regex RatePattern();

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => [new("tc", "iproute2")];

    public override IEnumerable<KernelFeature> KernelFeatures => [KernelFeature.Netem];

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is { } key) host.Link(key, In, Link);
    }

    /// <summary>netem's words for the settings given, in tc's order.</summary>
    public string[] Settings() =>
    [
        .. Delay is { } d ? ["delay", Milliseconds(d), .. Jitter is { } j ? new[] { Milliseconds(j) } : []] : Array.Empty<string>(),
        .. Loss is null ? [] : new[] { "loss", Loss },
        .. Duplicate is null ? [] : new[] { "duplicate", Duplicate },
        .. Reorder is null ? [] : new[] { "reorder", Reorder },
        .. Rate is null ? [] : new[] { "rate", Rate },
    ];

    private static string Milliseconds(TimeSpan t) => t.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        // The link's own qdisc comes back when the root one is deleted; "handle of zero": there is no root qdisc any more.
        var undo = new UndoCommand($"remove netem from {Link} in {t.Label}", [.. t.Exec("tc", "qdisc", "del", "dev", Link, "root")],
            ["Cannot delete qdisc with handle of zero", .. GoneErrors.Link, .. GoneErrors.Namespace],
            new Verification(VerificationKind.Absent, [.. t.Exec("sh", "-c", "tc qdisc show dev \"$1\" root | grep -w netem", "sh", Link)], null));
        return context.DoAsync(t.Exec(["tc", "qdisc", "add", "dev", Link, "root", "netem", .. Settings()]), undo, ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>tc qdisc add dev LINK root netem ...</c> (YAML <c>netem</c>); durations as "100ms", shares as "10%"; removed at teardown.</summary>
    public static ActionClause Netem(this StepBuilder step, string link, string? delay = null, string? jitter = null, string? loss = null,
        string? duplicate = null, string? reorder = null, string? rate = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(Model.Netem.Kind, file, line, ("link", link), ("delay", delay), ("jitter", jitter), ("loss", loss), ("duplicate", duplicate),
            ("reorder", reorder), ("rate", rate));
}
