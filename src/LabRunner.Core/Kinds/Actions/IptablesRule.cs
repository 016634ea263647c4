using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// <c>iptables -t TABLE -A|-I CHAIN RULE...</c>: one rule, given as the argv iptables takes after the chain. Undone by
/// <c>-D</c> with the same rule (exactly that rule, not a chain flush). A user chain the lab names is created on its
/// first rule (<c>-N</c>) when it is not there, and removed at teardown (<c>-X</c>, after its rules).
/// </summary>
public sealed record IptablesRule(string Table, string Chain, ImmutableArray<string> Rule, bool Insert, Place In) : LabAction
{
    /// <summary>The chains each table has built in; any other chain is the lab's own.</summary>
    private static readonly Dictionary<string, string[]> BuiltIn = new(StringComparer.Ordinal)
    {
        ["filter"] = ["INPUT", "FORWARD", "OUTPUT"],
        ["nat"] = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
        ["mangle"] = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
        ["raw"] = ["PREROUTING", "OUTPUT"],
    };

    /// <summary>Options that are iptables commands, not parts of a rule: the action says what it does to the table.</summary>
    private static readonly string[] Commands =
    [
        "-A", "--append", "-C", "--check", "-D", "--delete", "-I", "--insert", "-R", "--replace", "-L", "--list", "-S", "--list-rules",
        "-F", "--flush", "-Z", "--zero", "-N", "--new-chain", "-X", "--delete-chain", "-P", "--policy", "-E", "--rename-chain",
        "-t", "--table", "-h", "--help", "-V", "--version", "--modprobe",
    ];

    public static readonly ActionKind Kind = new("iptables-rule", "iptables -t TABLE -A|-I CHAIN RULE...",
        [
            CommonFields.Table,
            CommonFields.Chain,
            new("rule", FieldType.Argv, "the rule as iptables takes it after the chain, e.g. [-s, 172.16.100.0/24, -j, ACCEPT]", Required: true),
            new("insert", FieldType.Boolean, "put it first in the chain (-I) instead of last (-A)"),
            FieldSpec.In,
        ],
        r =>
        {
            var table = CommonFields.ReadTable(r);
            var chain = r.Chain("chain", required: true);
            var rule = r.Argv("rule", required: true);
            RejectCommands(r, rule, "the action adds it with -A (or -I with 'insert: true') and removes it at teardown");
            var insert = r.Bool("insert") ?? false;
            return chain is null || rule is null ? null : new IptablesRule(table, chain, rule.Value, insert, r.PlaceOf());
        },
        rank: 155);

    /// <summary>Whether <paramref name="chain"/> is one <paramref name="table"/> has built in (with a policy), not a user chain.</summary>
    internal static bool IsBuiltIn(string table, string chain) => BuiltIn.TryGetValue(table, out var chains) && chains.Contains(chain);

    /// <summary>A rule (the argv after the chain) that holds an iptables command (-A, -D, -F...) is refused where it is written.</summary>
    internal static void RejectCommands(FieldReader r, IEnumerable<string>? rule, string why)
    {
        foreach (var arg in rule ?? [])
            if (Commands.Contains(arg) || Commands.Any(c => c.StartsWith("--", StringComparison.Ordinal) && arg.StartsWith(c + "=", StringComparison.Ordinal)))
                r.Error(r.SpanOf("rule"), $"'{arg}' is an iptables command, not part of a rule",
                    $"give only the rule (matches and target, e.g. [-p, tcp, --dport, 80, -j, ACCEPT]); {why}");
    }

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => [new("iptables", "iptables")];

    public override IEnumerable<string?> Templated => Rule;

    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(IptablesRule? other) =>
        other is not null && base.Equals(other) && Table == other.Table && Chain == other.Chain && Sequences.Equal(Rule, other.Rule) &&
        Insert == other.Insert && In == other.In;

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Table, Chain, Sequences.Hash(Rule), Insert, In);

    public override void Apply(HostModel host) => host.Namespace(In);

    public override async Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        var rule = Rule.Select(context.Session.Expand).ToArray();
        if (!BuiltIn[Table].Contains(Chain) && context.Session.FirstTime($"iptables chain {Table} {Chain} in {t.NetnsArgument}"))
        {
            // The lab's own chain: made on its first rule unless it is there already (then it is not the lab's to remove).
            var there = context.IsDryRun ? null : await context.CheckAsync(t.Exec("iptables", "-t", Table, "-S", Chain), ct);
            if (there is not { Succeeded: true })
            {
                var remove = new UndoCommand($"remove chain {Chain} of table {Table} in {t.Label}", [.. t.Exec("iptables", "-t", Table, "-X", Chain)],
                    ["No chain/target/match by that name", .. GoneErrors.Namespace], new Verification(VerificationKind.Absent, [.. t.Exec("iptables", "-t", Table, "-S", Chain)], null));
                var made = await context.DoAsync(t.Exec("iptables", "-t", Table, "-N", Chain), remove, ct);
                if (!made.Succeeded) return made;
            }
        }
        return await AddAsync(context, t, Table, Chain, rule, Insert, ct);
    }

    /// <summary>
    /// Adds one rule (<c>-A</c>, or <c>-I CHAIN 1</c>) with its undo, <c>-D</c> of exactly that rule, journalled
    /// first; the rule kinds that are sugar (<c>masquerade</c>, <c>publish</c>) add theirs through this too.
    /// </summary>
    internal static Task<CommandOutcome> AddAsync(ActionContext context, NetTarget t, string table, string chain, IReadOnlyList<string> rule, bool insert,
        CancellationToken ct)
    {
        var undo = new UndoCommand($"delete the rule `{rule.Display()}` from {table} {chain} in {t.Label}", [.. t.Exec(["iptables", "-t", table, "-D", chain, .. rule])],
            ["does a matching rule exist", "No chain/target/match by that name", .. GoneErrors.Namespace],
            new Verification(VerificationKind.Absent, [.. t.Exec(["iptables", "-t", table, "-C", chain, .. rule])], null));
        string[] add = insert ? ["-I", chain, "1"] : ["-A", chain];
        return context.DoAsync(t.Exec(["iptables", "-t", table, .. add, .. rule]), undo, ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// <c>iptables -t TABLE -A CHAIN RULE...</c> (YAML <c>iptables-rule</c>), or <c>-I CHAIN 1</c> with <paramref name="insert"/>;
    /// deleted (<c>-D</c>) at teardown.
    /// </summary>
    public static ActionClause IptablesRule(this StepBuilder step, string chain, string[] rule, string table = "filter", bool insert = false,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(Model.IptablesRule.Kind, file, line, ("table", table), ("chain", chain), ("rule", rule), ("insert", insert));
}
