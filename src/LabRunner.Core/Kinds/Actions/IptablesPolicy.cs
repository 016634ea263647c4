using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>iptables -t TABLE -P CHAIN POLICY</c>; the old policy is read first and restored at teardown.</summary>
public sealed record IptablesPolicy(string Table, string Chain, string Policy, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("iptables-policy", "iptables -t TABLE -P CHAIN POLICY",
        [CommonFields.Table, CommonFields.Chain, CommonFields.Policy, FieldSpec.In],
        r =>
        {
            var (table, chain, policy) = CommonFields.ReadPolicy(r);
            return chain is null || policy is null ? null : new IptablesPolicy(table, chain, policy, r.PlaceOf());
        }, rank: 150);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => [new("iptables", "iptables")];

    public override void Apply(HostModel host) => host.Namespace(In);

    public override async Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        var read = t.Exec("iptables", "-t", Table, "-S", Chain);
        var current = await context.CheckAsync(read, ct);
        if (!current.Succeeded) return current;
        var oldPolicy = context.IsDryRun ? "<old policy>" : CommonFields.ParsePolicy(current.Stdout, Chain);
        if (oldPolicy is null)
            return new CommandOutcome(1, "", $"chain {Chain} of table {Table} has no policy (a user-defined chain?)", TimeSpan.Zero);
        var undo = new UndoCommand($"restore {Table} {Chain} policy {oldPolicy} in {t.Label}", [.. t.Exec("iptables", "-t", Table, "-P", Chain, oldPolicy)],
            GoneErrors.Namespace, new Verification(VerificationKind.FirstLineEquals, [.. read], $"-P {Chain} {oldPolicy}"));
        return await context.DoAsync(t.Exec("iptables", "-t", Table, "-P", Chain, Policy), undo, ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>iptables -t TABLE -P CHAIN POLICY</c> (YAML <c>iptables-policy</c>); the old policy is restored at teardown.</summary>
    public static ActionClause IptablesPolicy(this StepBuilder step, string chain, string policy, string table = "filter", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(Model.IptablesPolicy.Kind, file, line, ("table", table), ("chain", chain), ("policy", policy));
}
