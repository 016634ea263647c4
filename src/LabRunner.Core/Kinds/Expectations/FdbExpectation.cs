using System.Runtime.CompilerServices;
using System.Text.Json;
using LabRunner.Authoring;
using LabRunner.Kinds;
using static LabRunner.Execution.IpJson;

namespace LabRunner.Model;

/// <summary>
/// A bridge's forwarding database (<c>bridge fdb show br BRIDGE</c>): it has learned a MAC on a port, e.g. br-0 learned
/// the MAC of veth-2 in busybox-1 on veth-1 once busybox-1 has sent a frame. Only learned entries count, not the
/// bridge's own permanent ones for its ports. With <c>present: false</c>, it has not (yet, or any more: ageing).
/// </summary>
public sealed record FdbExpectation(Place In, string Bridge, string Port, string? Mac, string? MacOfLink, Place? MacOfIn, bool Present) : Expectation
{
    public static readonly ExpectationKind Kind = new("fdb", "bridge fdb show br BRIDGE: a MAC learned on a port",
        [
            FieldSpec.In,
            new("bridge", FieldType.Interface, "the bridge, e.g. br-0", Required: true),
            new("port", FieldType.Interface, "the port the MAC was learned on, e.g. veth-1", Required: true),
            new("mac", FieldType.Mac, "the MAC"),
            CommonFields.MacOf,
            new("present", FieldType.Boolean, "whether it must be learned (default true)"),
        ],
        r =>
        {
            var place = r.PlaceOf();
            var bridge = r.Interface("bridge", required: true);
            var port = r.Interface("port", required: true);
            var mac = r.Mac("mac");
            var (ofLink, ofIn) = CommonFields.ReadMacOf(r);
            if (mac is not null && ofLink is not null) r.Error(r.SpanOf("mac"), "give either 'mac' or 'mac-of', not both");
            if (mac is null && ofLink is null) r.Error(r.Span, "'mac' or 'mac-of' is missing", "name the MAC, or the link whose MAC it is: mac-of: { link: veth-2, in: busybox-1 }");
            var present = r.Bool("present") ?? true;
            return bridge is null || port is null || (mac is null && ofLink is null) ? null : new FdbExpectation(place, bridge, port, mac, ofLink, ofIn, present);
        }, rank: 95);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<Tool> Tools => [new("bridge", "iproute2")];

    public override string Describe() =>
        $"{Bridge} {(Present ? "has learned" : "has not learned")} " + (MacOfLink is not null ? $"the MAC of {MacOfLink} in {MacOfIn!.Name}" : Mac) + $" on {Port}";

    public override void Check(HostModel host)
    {
        if (host.Namespace(In) is { } at && host.Link(at, In, Bridge) is { } bridge)
        {
            if (bridge.Kind != "bridge") host.Error($"'{Bridge}' is not a bridge", "name the bridge whose table to read");
            else if (Present && host.Link(at, In, Port) is { } port && port.Master != Bridge)
                host.Error($"'{Port}' is not a port of '{Bridge}' in {In} at this point", $"attach it first: bridge-attach: {{ bridge: {Bridge}, link: {Port} }}");
        }
        if (MacOfIn is not null && host.Namespace(MacOfIn) is { } key && MacOfLink is not null) host.Link(key, MacOfIn, MacOfLink);
    }

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var mac = Mac;
        var seen = new List<string>();
        if (MacOfLink is not null)
        {
            mac = await context.MacOfAsync(MacOfIn!, MacOfLink, ct);
            if (mac is null) return (false, $"{MacOfLink} not found in {MacOfIn}");
            seen.Add($"{MacOfLink} in {MacOfIn!.Name} has {mac}");
        }
        var outcome = await context.CheckAsync(context.Target(In).Exec("bridge", "-j", "fdb", "show", "br", Bridge), ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var learned = Learned(ObserveContext.Json(outcome.Stdout)).ToList();
        var on = learned.Where(e => string.Equals(e.Mac, mac, StringComparison.OrdinalIgnoreCase)).Select(e => e.Port).ToList();
        seen.Add(on.Count > 0 ? $"{mac} learned on {string.Join(", ", on)}" : $"{mac} not learned ({learned.Count} learned entries)");
        return (on.Contains(Port, StringComparer.Ordinal) == Present, string.Join("; ", seen));
    }

    /// <summary>The learned entries (MAC, port) of <c>bridge -j fdb show</c>: those the bridge did not make permanent for itself.</summary>
    public static IEnumerable<(string Mac, string Port)> Learned(JsonElement fdb) =>
        fdb.EnumerateArray()
            .Where(e => Str(e, "mac") is not null && Str(e, "ifname") is not null && Str(e, "state") is not ("permanent" or "static") &&
                        !(e.TryGetProperty("flags", out var f) && f.ValueKind == JsonValueKind.Array && f.EnumerateArray().Any(x => x.GetString() == "self")))
            .Select(e => (Str(e, "mac")!, Str(e, "ifname")!));
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>
    /// <paramref name="bridge"/> has learned (YAML <c>fdb</c>) MAC <paramref name="mac"/>, or the MAC of <paramref name="macOf"/> in
    /// <paramref name="macOfIn"/>, on <paramref name="port"/>.
    /// </summary>
    public static ExpectClause Fdb(this ExpectationPicker expect, string bridge, string port, string? mac = null, string? macOf = null, string? macOfIn = null,
        bool present = true, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(FdbExpectation.Kind, file, line, ("bridge", bridge), ("port", port), ("mac", mac),
            ("mac-of", ExpectationPicker.MacOf(macOf, macOfIn, file, line)), ("present", present));
}
