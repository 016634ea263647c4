using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// An iptables rule's packet counter grew (or, with <c>grew: false</c>, did not) during the step, or during the
/// traffic of <c>while</c>: which rule dropped c3's packets, which rule let c1's through. The rule is given as
/// <c>iptables-rule</c> takes it (the argv after the chain) and found in <c>iptables-save -c</c> by the text iptables
/// itself writes for it: the argv is added once to a scratch chain in a throwaway network namespace
/// (<c>unshare -n</c>) and listed back, so "-s 10.0.0.3" finds "-s 10.0.0.3/32" and "-p tcp --dport 80" finds
/// "-p tcp -m tcp --dport 80". Without <c>rule</c>, the chain's policy counter (built-in chains).
/// </summary>
public sealed record CounterExpectation(Place In, string Table, string Chain, ImmutableArray<string>? Rule, bool Grew) : Expectation
{
    /// <summary>At least this many packets more (default 1); only with <see cref="Grew"/>.</summary>
    public int? Packets { get; init; }

    /// <summary>Traffic sent between the two readings; null: the counter is compared with its value when the step began.</summary>
    public CaptureTraffic? While { get; init; }

    /// <summary>Targets that are not chains: a rule jumping anywhere else needs that chain in the scratch namespace.</summary>
    private static readonly HashSet<string> Targets =
    [
        "ACCEPT", "DROP", "RETURN", "REJECT", "LOG", "NFLOG", "MASQUERADE", "SNAT", "DNAT", "REDIRECT", "NETMAP", "MARK", "CONNMARK",
        "CT", "NOTRACK", "TRACE", "TCPMSS", "TOS", "DSCP", "TTL", "CLASSIFY", "CHECKSUM", "NFQUEUE", "QUEUE", "AUDIT", "SET", "TPROXY",
    ];

    public static readonly ExpectationKind Kind = new("counter", "an iptables rule's packet counter grew during the step, or while given traffic ran",
        [
            CommonFields.Table,
            CommonFields.Chain,
            new("rule", FieldType.Argv, "the rule as iptables-rule takes it, e.g. [-s, 172.16.100.103, -j, DROP]; without it, the chain's policy"),
            new("grew", FieldType.Boolean, "whether the counter must grow (default true) or stay"),
            new("packets", FieldType.Integer, "grew by at least this many packets (default 1)") { Min = 1, Max = 1_000_000 },
            CaptureExpectation.TrafficField("traffic sent between the two readings (default: the counter is compared with its value when the step began)", required: false),
            FieldSpec.In,
        ],
        r =>
        {
            var table = CommonFields.ReadTable(r);
            var chain = r.Chain("chain", required: true);
            var rule = r.Argv("rule", required: false);
            IptablesRule.RejectCommands(r, rule, "the counter of that rule is read");
            var grew = r.Bool("grew") ?? true;
            var packets = r.Int("packets", 1, 1_000_000);
            if (packets is not null && !grew) r.Error(r.SpanOf("packets"), "'packets' counts growth", "remove it, or expect 'grew: true'");
            if (rule is null && chain is not null && !IptablesRule.IsBuiltIn(table, chain))
                r.Error(r.SpanOf("chain"), $"{chain} is not a built-in chain of table {table}, so it has no policy to count",
                    "give the 'rule' whose counter is meant");
            var traffic = r.Has("while") ? CaptureExpectation.ReadTraffic(r) : null;
            return chain is null || r.Has("while") && traffic is null ? null
                : new CounterExpectation(r.PlaceOf(), table, chain, rule, grew) { Packets = packets, While = traffic };
        }, rank: 125);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => [new("iptables-save", "iptables")];

    public override IEnumerable<string?> Templated => [.. Rule ?? [], While?.To];

    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(CounterExpectation? other) =>
        other is not null && base.Equals(other) && In == other.In && Table == other.Table && Chain == other.Chain &&
        (Rule is null ? other.Rule is null : other.Rule is not null && Sequences.Equal(Rule.Value, other.Rule.Value)) && Grew == other.Grew &&
        Packets == other.Packets && While == other.While;

    public override int GetHashCode() =>
        HashCode.Combine(base.GetHashCode(), In, Table, Chain, Rule is null ? 0 : Sequences.Hash(Rule.Value), Grew, Packets, While);

    private string What => Rule is { } rule ? $"the rule `{rule.Display()}` of {Table} {Chain}" : $"the policy of {Table} {Chain}";

    public override string Describe() =>
        $"{What} in {In.Name} counts {(Grew ? Packets is > 1 ? $"at least {Packets} packets" : "packets" : "no packets")}" +
        (While is { } w ? $" while {w.From.Name} pings {w.To}" : " during the step");

    public override void Check(HostModel host)
    {
        host.Namespace(In);
        if (While is { } w) host.Namespace(w.From);
    }

    /// <summary>Reads the counter before the step's actions: a rule the step adds counts from 0.</summary>
    public override async Task BeginStepAsync(ObserveContext context, CancellationToken ct)
    {
        if (While is not null) return;
        try
        {
            context.StepStart[this] = (await ReadAsync(context, ct)).Packets ?? 0L;
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            context.StepStart[this] = 0L; // the place is made by this step: nothing counted yet
        }
    }

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        long before;
        if (While is { } traffic)
        {
            var first = await ReadAsync(context, ct);
            if (first.Packets is null) return (false, first.Observed);
            before = first.Packets.Value;
            await context.Places.PingAsync(traffic.From, traffic.To, traffic.Count, CommandPurpose.Observe, ct, "-i", "0.2");
        }
        else before = context.StepStart.TryGetValue(this, out var start) ? (long)start : 0L;

        var now = await ReadAsync(context, ct);
        if (now.Packets is not { } after) return (false, now.Observed);
        var grown = after - before;
        var held = Grew ? grown >= (Packets ?? 1) : grown == 0;
        return (held, $"{now.Observed}: {before} → {after} packets ({(grown >= 0 ? "+" : "")}{grown}{(While is null ? " during the step" : " during the pings")})");
    }

    /// <summary>The counter now, with the text it was found by; null packets and why when the rule is not there.</summary>
    private async Task<(long? Packets, string Observed)> ReadAsync(ObserveContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        var saved = await context.CheckAsync(t.Exec("iptables-save", "-c", "-t", Table), ct);
        if (!saved.Succeeded) return (null, $"iptables-save -c -t {Table} failed in {In.Name}: {saved.Error}");
        var table = IptablesSave.Parse(saved.Stdout).Table(Table);
        if (Rule is null)
            return table?.Chain(Chain) is { } chain
                ? (chain.Packets, $"policy {chain.Policy} of {Table} {Chain} in {In.Name}")
                : (null, $"table {Table} of {In.Name} has no chain {Chain}");

        var text = await CanonicalAsync(context, [.. Rule.Value.Select(context.Session.Expand)], ct);
        if (text.Error is { } error) return (null, error);
        var rules = table?.Rules.Where(r => r.Chain == Chain).ToList() ?? [];
        var found = rules.FirstOrDefault(r => r.Text == text.Rule);
        if (found is null)
            return (null, $"no rule `{text.Rule}` in {Table} {Chain} of {In.Name}" +
                          (rules.Count == 0 ? $" ({Chain} has no rules)" : $"; its rules: {string.Join("; ", rules.Select(r => r.Text))}"));
        return (found.Packets ?? 0, $"`{found.Text}` in {In.Name}");
    }

    /// <summary>
    /// The text iptables-save writes for this rule in this chain ("-A FORWARD -s 10.0.0.3/32 -j DROP"): the rule added
    /// to a scratch chain in a throwaway network namespace and listed back (a chain it jumps to is made there first).
    /// </summary>
    private async Task<(string? Rule, string? Error)> CanonicalAsync(ObserveContext context, string[] rule, CancellationToken ct)
    {
        // The same words give the same text for the whole run: asked once, not at every retry.
        var key = $"counter\0{Table}\0{Chain}\0{string.Join('\0', rule)}";
        if (context.RunMemo.TryGetValue(key, out var known)) return (known, null);
        const string scratch = "LABRUNNER-COUNTER";
        string[] jumps = [.. rule.Select((word, i) => (word, i)).Where(x => x.word is "-j" or "--jump" or "-g" or "--goto" && x.i + 1 < rule.Length)
            .Select(x => rule[x.i + 1]).Where(target => !Targets.Contains(target)).Distinct()];
        // The words go in as arguments, never through the shell's parsing: table, the number of chains to make, those chains, the rule.
        const string script = "t=$1; n=$2; shift 2; while [ \"$n\" -gt 0 ]; do iptables -t \"$t\" -N \"$1\" || exit; shift; n=$((n - 1)); done; " +
                              "iptables -t \"$t\" -N " + scratch + " && iptables -t \"$t\" -A " + scratch + " \"$@\" && iptables -t \"$t\" -S " + scratch;
        var outcome = await context.CheckAsync(["unshare", "-n", "sh", "-c", script, "sh", Table, jumps.Length.ToString(CultureInfo.InvariantCulture), .. jumps, .. rule], ct);
        var line = outcome.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith($"-A {scratch} ", StringComparison.Ordinal));
        if (line is null) return (null, $"iptables does not take the rule `{rule.Display()}` in table {Table}: {outcome.Error}");
        return (context.RunMemo[key] = $"-A {Chain} {line[$"-A {scratch} ".Length..]}", null);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>
    /// The packet counter of <paramref name="rule"/> in <paramref name="chain"/> (YAML <c>counter</c>; without a rule,
    /// the chain's policy) grew during the step, or while <paramref name="pingFrom"/> pinged <paramref name="pingTo"/>.
    /// </summary>
    public static ExpectClause Counter(this ExpectationPicker expect, string chain, string[]? rule = null, string table = "filter", bool grew = true,
        int? packets = null, string? pingFrom = null, string? pingTo = null, int pingCount = 2, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        var at = StepBuilder.At(file, line);
        var traffic = pingFrom is null && pingTo is null ? null
            : FieldValue.Map(at, ("ping", FieldValue.Map(at, ("from", pingFrom), ("to", pingTo), ("count", pingCount))));
        return expect.Add(CounterExpectation.Kind, file, line, ("table", table), ("chain", chain), ("rule", rule), ("grew", grew), ("packets", packets),
            ("while", traffic));
    }
}
