using System.Runtime.CompilerServices;
using System.Text.Json;
using LabRunner.Authoring;
using LabRunner.Kinds;
using static LabRunner.Execution.IpJson;

namespace LabRunner.Model;

/// <summary>A link has (or has not) an IPv4 or IPv6 address.</summary>
public sealed record AddressExpectation(Place In, string Device, string Cidr, bool Present) : Expectation
{
    public static readonly ExpectationKind Kind = new("address", "ip addr show dev DEV: has (or has not) ADDRESS",
        [
            new("dev", FieldType.Interface, "the link", Required: true),
            new("address", FieldType.IpCidr, "address/prefix, IPv4 or IPv6", Required: true),
            new("present", FieldType.Boolean, "whether it must be there (default true)"),
            FieldSpec.In,
        ],
        r =>
        {
            var dev = r.Interface("dev", required: true);
            var address = r.IpCidr("address", required: true);
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
        if (Loading.Names.IsV6(Cidr)) return ObserveIPv6(outcome.Stdout);
        var addresses = ObserveContext.Json(outcome.Stdout).EnumerateArray()
            .SelectMany(l => l.TryGetProperty("addr_info", out var a) ? a.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Where(a => Str(a, "family") == "inet")
            .Select(a => $"{Str(a, "local")}/{a.GetProperty("prefixlen").GetInt32()}")
            .ToList();
        return (addresses.Contains(Cidr) == Present, addresses.Count == 0 ? "no IPv4 address" : string.Join(", ", addresses));
    }

    /// <summary>
    /// The link's IPv6 addresses (the kernel's link-local fe80:: one among them, on every link that is up), each with what
    /// keeps it from being used: tentative (duplicate address detection not done yet) or dadfailed (another node has it).
    /// </summary>
    private (bool Held, string Observed) ObserveIPv6(string stdout)
    {
        var addresses = ObserveContext.Json(stdout).EnumerateArray()
            .SelectMany(l => l.TryGetProperty("addr_info", out var a) ? a.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Where(a => Str(a, "family") == "inet6")
            .Select(a => (Cidr: $"{Str(a, "local")}/{a.GetProperty("prefixlen").GetInt32()}",
                Notes: (string[])[.. Str(a, "scope") == "link" ? ["link-local"] : Array.Empty<string>(),
                    .. new[] { "tentative", "dadfailed", "deprecated" }.Where(flag => a.TryGetProperty(flag, out var f) && f.ValueKind == JsonValueKind.True)]))
            .ToList();
        var seen = addresses.Count == 0 ? "no IPv6 address"
            : string.Join(", ", addresses.Select(a => a.Notes.Length == 0 ? a.Cidr : $"{a.Cidr} ({string.Join(", ", a.Notes)})"));
        return (addresses.Any(a => a.Cidr == Cidr) == Present, seen);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>DEV has (or with present: false has not) the IPv4 or IPv6 address ADDRESS (YAML <c>address</c>).</summary>
    public static ExpectClause Address(this ExpectationPicker expect, string dev, string address, bool present = true, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(AddressExpectation.Kind, file, line, ("dev", dev), ("address", address), ("present", present));
}
