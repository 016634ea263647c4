using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// <c>tc qdisc add dev DEV root netem [delay D [JITTER]] [loss P%] [duplicate P%] [reorder P%] [rate R]</c>: a link that
/// delays, drops, duplicates, reorders or slows its packets (a WAN in a lab). Undone by deleting the root qdisc, which
/// gives the link its default back.
/// </summary>
public sealed partial record Netem(string Dev, Place In, TimeSpan? Delay, TimeSpan? Jitter, double? Loss, double? Duplicate, double? Reorder, string? Rate)
    : LabAction
{
    public static readonly ActionKind Kind = new("netem", "tc qdisc add dev DEV root netem [delay D [JITTER]] [loss P%] [duplicate P%] [reorder P%] [rate R]",
        [
            new("dev", FieldType.Interface, "the link whose outgoing packets are changed", Required: true),
            new("delay", FieldType.Duration, "added to every packet, e.g. 100ms"),
            new("jitter", FieldType.Duration, "random variation of the delay, e.g. 10ms (needs delay)"),
            new("loss", FieldType.Text, "packets dropped, e.g. 1%"),
            new("duplicate", FieldType.Text, "packets sent twice, e.g. 1%"),
            new("reorder", FieldType.Text, "packets sent at once, ahead of delayed ones, e.g. 25% (needs delay)"),
            new("rate", FieldType.Text, "the link's rate, e.g. 1mbit, 500kbit"),
            FieldSpec.In,
        ],
        r =>
        {
            var dev = r.Interface("dev", required: true);
            var delay = r.Duration("delay");
            var jitter = r.Duration("jitter");
            var loss = Percent(r, "loss");
            var duplicate = Percent(r, "duplicate");
            var reorder = Percent(r, "reorder");
            var rate = r.String("rate");
            if (rate is not null && !RatePattern().IsMatch(rate))
                r.Error(r.SpanOf("rate"), $"'rate' must be a rate tc reads, like 1mbit or 500kbit, not '{rate}'", "units: bit, kbit, mbit, gbit (bits per second) or bps, kbps, mbps (bytes)");
            foreach (var needsDelay in new[] { "jitter", "reorder" })
                if (r.Has(needsDelay) && !r.Has("delay")) r.Error(r.SpanOf(needsDelay), $"'{needsDelay}' needs 'delay'", "netem varies or reorders around a delay: add e.g. 'delay: 100ms'");
            if (!new[] { "delay", "jitter", "loss", "duplicate", "reorder", "rate" }.Any(r.Has))
                r.Error(r.Span, "netem changes nothing", "give at least one of delay, loss, duplicate, reorder or rate");
            return dev is null ? null : new Netem(dev, r.PlaceOf(), delay, jitter, loss, duplicate, reorder, rate);
        },
        rank: 157);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is { } key) host.Link(key, In, Dev);
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        var undo = new UndoCommand($"remove netem from {Dev} in {t.Label}", [.. t.Exec("tc", "qdisc", "del", "dev", Dev, "root")],
            ["No such file or directory", "Cannot find device", .. GoneErrors.Link, .. GoneErrors.Namespace], null);
        return context.DoAsync(t.Exec(["tc", "qdisc", "add", "dev", Dev, "root", "netem", .. Options()]), undo, ct);
    }

    /// <summary>netem's options in the order tc's grammar has them; times in milliseconds (tc reads no minutes).</summary>
    private IEnumerable<string> Options()
    {
        if (Delay is { } delay)
        {
            yield return "delay";
            yield return Ms(delay);
            if (Jitter is { } jitter) yield return Ms(jitter);
        }
        if (Loss is { } loss) { yield return "loss"; yield return Pct(loss); }
        if (Duplicate is { } dup) { yield return "duplicate"; yield return Pct(dup); }
        if (Reorder is { } reorder) { yield return "reorder"; yield return Pct(reorder); }
        if (Rate is { } rate) { yield return "rate"; yield return rate; }
    }

    private static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms";

    private static string Pct(double p) => p.ToString(CultureInfo.InvariantCulture) + "%";

    /// <summary>A percentage, 0 to 100, written with its sign: "1%", "0.5%".</summary>
    private static double? Percent(FieldReader r, string key)
    {
        var text = r.String(key);
        if (text is null) return null;
        if (text.EndsWith('%') && double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var p) && p is >= 0 and <= 100)
            return p;
        r.Error(r.SpanOf(key), $"'{key}' must be a percentage from 0% to 100%, like 1% or 0.5%, not '{text}'");
        return null;
    }

    [GeneratedRegex("^[0-9]+(\\.[0-9]+)?(bit|kbit|mbit|gbit|tbit|bps|kbps|mbps|gbps|tbps)$")]
    private static partial Regex RatePattern();
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// <c>tc qdisc add dev DEV root netem ...</c> (YAML <c>netem</c>): delay, jitter, loss/duplicate/reorder as "1%",
    /// rate as "1mbit"; the qdisc is deleted at teardown.
    /// </summary>
    public static ActionClause Netem(this StepBuilder step, string dev, TimeSpan? delay = null, TimeSpan? jitter = null, string? loss = null,
        string? duplicate = null, string? reorder = null, string? rate = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(Model.Netem.Kind, file, line, ("dev", dev), ("delay", delay), ("jitter", jitter), ("loss", loss), ("duplicate", duplicate),
            ("reorder", reorder), ("rate", rate));
}
