using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>sysctl -n KEY</c> prints VALUE in a namespace.</summary>
public sealed record SysctlExpectation(Place In, string Key, string Value) : Expectation
{
    public static readonly ExpectationKind Kind = new("sysctl", "sysctl -n KEY prints VALUE",
        [new("key", FieldType.SysctlKey, "e.g. net.ipv4.ip_forward", Required: true), new("value", FieldType.Text, "the value", Required: true), FieldSpec.In],
        r =>
        {
            var key = r.SysctlKey("key", required: true);
            var value = r.String("value", required: true);
            return key is null || value is null ? null : new SysctlExpectation(r.PlaceOf(), key, value);
        }, rank: 70);

    public override string Keyword => Kind.Keyword;

    public override string Describe() => $"{Key} = {Value} in {In}";

    public override void Check(HostModel host) => host.Namespace(In);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var outcome = await context.CheckAsync(context.Target(In).Exec("sysctl", "-n", Key), ct);
        // Multi-value keys (ip_local_port_range) print tab-separated; compare words, as sysctl -w takes them.
        var value = outcome.Succeeded ? ObserveContext.Words(outcome.Stdout) : outcome.Error;
        return (outcome.Succeeded && value == ObserveContext.Words(Value), $"{Key} = {value}");
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary><c>sysctl -n KEY</c> prints VALUE (YAML <c>sysctl</c>).</summary>
    public static ExpectClause Sysctl(this ExpectationPicker expect, string key, string value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(SysctlExpectation.Kind, file, line, ("key", key), ("value", value));
}
