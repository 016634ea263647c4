using System.Runtime.CompilerServices;
using System.Text.Json;
using LabRunner.Authoring;
using LabRunner.Kinds;
using static LabRunner.Execution.IpJson;

namespace LabRunner.Model;

/// <summary>
/// The neighbor entry for <see cref="Ip"/> in <see cref="In"/> exists (learned by ARP for IPv4, by neighbour discovery
/// for IPv6: the same table, read the same way), and when <see cref="MacOfLink"/> is set its MAC is that interface's
/// MAC (resolved at run time: MACs are random).
/// </summary>
public sealed record NeighborExpectation(Place In, string Ip, string? Mac, string? MacOfLink, Place? MacOfIn) : Expectation
{
    public static readonly ExpectationKind Kind = new("neighbor", "ip neigh show to IP: resolved, to a given MAC",
        [
            FieldSpec.In,
            new("ip", FieldType.IpAddress, "the neighbor's address, IPv4 (ARP) or IPv6 (neighbour discovery)", Required: true),
            new("mac", FieldType.Mac, "the MAC it must resolve to"),
            CommonFields.MacOf,
        ],
        r =>
        {
            var place = r.PlaceOf();
            var ip = r.IpAddress("ip", required: true);
            var mac = r.Mac("mac");
            var (ofLink, ofIn) = CommonFields.ReadMacOf(r);
            if (mac is not null && ofLink is not null) r.Error(r.SpanOf("mac"), "give either 'mac' or 'mac-of', not both");
            return ip is null ? null : new NeighborExpectation(place, ip, mac, ofLink, ofIn);
        }, rank: 20);

    public override string Keyword => Kind.Keyword;

    public override string Describe() =>
        $"{In.Name} resolves {Ip} to " + (MacOfLink is not null ? $"the MAC of {MacOfLink} in {MacOfIn!.Name}" : Mac ?? "a MAC");

    public override void Check(HostModel host)
    {
        host.Namespace(In);
        if (MacOfIn is not null && host.Namespace(MacOfIn) is { } key && MacOfLink is not null) host.Link(key, MacOfIn, MacOfLink);
    }

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        var outcome = await context.CheckAsync(Loading.Names.IsV6(Ip) ? t.Ip("-6", "-j", "neigh", "show", "to", Ip) : t.Ip("-j", "neigh", "show", "to", Ip), ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var entry = ObserveContext.Json(outcome.Stdout).EnumerateArray()
            .FirstOrDefault(n => Str(n, "dst") == Ip && Str(n, "lladdr") is not null && !States(n).Any(s => s is "FAILED" or "INCOMPLETE"));
        if (entry.ValueKind == JsonValueKind.Undefined) return (false, $"no resolved entry for {Ip} in {In}");
        var mac = Str(entry, "lladdr")!;
        var seen = $"{Ip} at {mac} ({string.Join(",", States(entry))})";
        var expectedMac = Mac;
        if (MacOfLink is not null)
        {
            expectedMac = await context.MacOfAsync(MacOfIn!, MacOfLink, ct);
            if (expectedMac is null) return (false, $"{seen}; {MacOfLink} not found in {MacOfIn}");
            seen += $"; {MacOfLink} in {MacOfIn!.Name} has {expectedMac}";
        }
        return (expectedMac is null || string.Equals(mac, expectedMac, StringComparison.OrdinalIgnoreCase), seen);
    }

    private static IEnumerable<string> States(JsonElement neighbor) =>
        neighbor.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.Array ? s.EnumerateArray().Select(x => x.GetString() ?? "") : [];
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>
    /// The neighbour entry (ARP; for an IPv6 address, neighbour discovery) for <paramref name="ip"/> exists (in <c>.In(x)</c>, default host), with MAC <paramref name="mac"/>,
    /// or the MAC of link <paramref name="macOf"/> in <paramref name="macOfIn"/> (MACs are random: known only at run time).
    /// </summary>
    public static ExpectClause Neighbor(this ExpectationPicker expect, string ip, string? mac = null, string? macOf = null, string? macOfIn = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(NeighborExpectation.Kind, file, line, ("ip", ip), ("mac", mac), ("mac-of", ExpectationPicker.MacOf(macOf, macOfIn, file, line)));
}
