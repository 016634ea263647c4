using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>The policy of an iptables chain (iptables -S CHAIN).</summary>
public sealed record IptablesPolicyExpectation(Place In, string Table, string Chain, string Policy) : Expectation
{
    public static readonly ExpectationKind Kind = new("iptables-policy", "iptables -t TABLE -S CHAIN: its policy",
        [CommonFields.Table, CommonFields.Chain, CommonFields.Policy, FieldSpec.In],
        r =>
        {
            var (table, chain, policy) = CommonFields.ReadPolicy(r);
            return chain is null || policy is null ? null : new IptablesPolicyExpectation(r.PlaceOf(), table, chain, policy);
        }, rank: 80);

    public override string Keyword => Kind.Keyword;

    public override string Describe() => $"{Table} {Chain} policy is {Policy} in {In}";

    public override IEnumerable<Tool> Tools => [new("iptables", "iptables")];

    public override void Check(HostModel host) => host.Namespace(In);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var outcome = await context.CheckAsync(context.Target(In).Exec("iptables", "-t", Table, "-S", Chain), ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var policy = CommonFields.ParsePolicy(outcome.Stdout, Chain);
        return (policy == Policy, $"policy {policy ?? "none"}");
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>The policy of an iptables chain (YAML <c>iptables-policy</c>).</summary>
    public static ExpectClause IptablesPolicy(this ExpectationPicker expect, string chain, string policy, string table = "filter", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(IptablesPolicyExpectation.Kind, file, line, ("table", table), ("chain", chain), ("policy", policy));
}
