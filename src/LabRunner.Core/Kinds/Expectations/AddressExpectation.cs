using System.Runtime.CompilerServices;
using System.Text.Json;
using LabRunner.Authoring;
using LabRunner.Kinds;
using static LabRunner.Execution.IpJson;

namespace LabRunner.Model;

/// <summary>A link has (or has not) an IPv4 address.</summary>
public sealed record AddressExpectation(Place In, string Device, string Cidr, bool Present) : Expectation
{
    public static readonly ExpectationKind Kind = new("address", "ip addr show dev DEV: has (or has not) ADDRESS",
        [
            new("dev", FieldType.Interface, "the link", Required: true),
            new("address", FieldType.Cidr, "address/prefix", Required: true),
            new("present", FieldType.Boolean, "whether it must be there (default true)"),
            FieldSpec.In,
        ],
        r =>
        {
            var dev = r.Interface("dev", required: true);
            var address = r.Cidr("address", required: true);
            var present = r.Bool("present") ?? true;
            return dev is null || address is null ? null : new AddressExpectation(r.PlaceOf(), dev, address, present);
        }, rank: 50);

    public override string Keyword => Kind.Keyword;

    public override string Describe() => $"{Device} in {In} {(Present ? "has" : "does not have")} {Cidr}";

    public override void Check(HostModel host) => host.Namespace(In);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var outcome = await context.CheckAsync(context.Target(In).Ip("-j", "addr", "show", "dev", Device), ct);
        if (!outcome.Succeeded) return (!Present, outcome.Error);
        var addresses = ObserveContext.Json(outcome.Stdout).EnumerateArray()
            .SelectMany(l => l.TryGetProperty("addr_info", out var a) ? a.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Where(a => Str(a, "family") == "inet")
            .Select(a => $"{Str(a, "local")}/{a.GetProperty("prefixlen").GetInt32()}")
            .ToList();
        return (addresses.Contains(Cidr) == Present, addresses.Count == 0 ? "no IPv4 address" : string.Join(", ", addresses));
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>DEV has (or with present: false has not) the IPv4 address ADDRESS (YAML <c>address</c>).</summary>
    public static ExpectClause Address(this ExpectationPicker expect, string dev, string address, bool present = true, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(AddressExpectation.Kind, file, line, ("dev", dev), ("address", address), ("present", present));
}
