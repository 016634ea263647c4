using System.Runtime.CompilerServices;
using System.Collections.Immutable;
using LabRunner.Authoring;
using LabRunner.Kinds;
using static LabRunner.Execution.IpJson;

namespace LabRunner.Model;

/// <summary>The ports of a bridge, exactly (what brctl show lists).</summary>
public sealed record BridgePortsExpectation(string Bridge, Place In, ImmutableArray<string> Ports) : Expectation
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(BridgePortsExpectation? other) => other is not null && base.Equals(other) && Bridge == other.Bridge && In == other.In && Sequences.Equal(Ports, other.Ports);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), Bridge, In, Sequences.Hash(Ports));

    public static readonly ExpectationKind Kind = new("bridge-ports", "ip link show master BRIDGE: exactly these ports",
        [new("bridge", FieldType.Interface, "the bridge", Required: true), new("ports", FieldType.Interfaces, "every port, or [] for none", Required: true), FieldSpec.In],
        r =>
        {
            var bridge = r.Interface("bridge", required: true);
            var ports = r.Interfaces("ports", required: true, "list the ports, or 'ports: []' for none");
            return bridge is null || ports is null ? null : new BridgePortsExpectation(bridge, r.PlaceOf(), ports.Value);
        }, rank: 90);

    public override string Keyword => Kind.Keyword;

    public override string Describe() => $"bridge {Bridge} in {In} holds [{string.Join(", ", Ports)}]";

    public override void Check(HostModel host) => host.Namespace(In);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var outcome = await context.CheckAsync(context.Target(In).Ip("-j", "link", "show", "master", Bridge), ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var ports = ObserveContext.Json(outcome.Stdout).EnumerateArray().Select(l => Str(l, "ifname") ?? "").Order().ToList();
        return (ports.SequenceEqual(Ports.Order()), ports.Count == 0 ? "no ports" : $"[{string.Join(", ", ports)}]");
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>The ports of a bridge, exactly (what brctl show lists); <c>[]</c> for none (YAML <c>bridge-ports</c>).</summary>
    public static ExpectClause BridgePorts(this ExpectationPicker expect, string bridge, string[] ports, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(BridgePortsExpectation.Kind, file, line, ("bridge", bridge), ("ports", ports));
}
