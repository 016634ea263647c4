using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Kinds;
using static LabRunner.Execution.IpJson;

namespace LabRunner.Model;

/// <summary>A route is (or is not) in a namespace's main table.</summary>
public sealed record RouteExpectation(Place In, string Destination, string? Device, string? Via, bool Present) : Expectation
{
    public static readonly ExpectationKind Kind = new("route", "ip route show: has (or has not) a route to TO [via VIA] [dev DEV]",
        [
            new("to", FieldType.RouteDestination, "'default' or a CIDR", Required: true),
            new("dev", FieldType.Interface, "the link out"),
            new("via", FieldType.Ipv4, "the gateway"),
            new("present", FieldType.Boolean, "whether it must be there (default true)"),
            FieldSpec.In,
        ],
        r =>
        {
            var to = r.RouteDestination("to", required: true);
            var dev = r.Interface("dev");
            var via = r.Ip("via");
            var present = r.Bool("present") ?? true;
            return to is null ? null : new RouteExpectation(r.PlaceOf(), to, dev, via, present);
        }, rank: 60);

    public override string Keyword => Kind.Keyword;

    public override string Describe() =>
        $"{In} {(Present ? "has" : "has no")} route {Destination}" + (Via is null ? "" : $" via {Via}") + (Device is null ? "" : $" dev {Device}");

    public override void Check(HostModel host) => host.Namespace(In);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var outcome = await context.CheckAsync(context.Target(In).Ip("-j", "route", "show"), ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var routes = ObserveContext.Json(outcome.Stdout).EnumerateArray().Select(r =>
            (Dst: Str(r, "dst") ?? "", Dev: Str(r, "dev"), Via: Str(r, "gateway"))).ToList();
        var destination = Destination.EndsWith("/32", StringComparison.Ordinal) ? Destination[..^3] : Destination;
        var found = routes.Any(r => r.Dst == destination && (Device is null || r.Dev == Device) && (Via is null || r.Via == Via));
        var seen = routes.Count == 0 ? "no routes" : string.Join("; ", routes.Select(r => r.Dst + (r.Via is null ? "" : $" via {r.Via}") + (r.Dev is null ? "" : $" dev {r.Dev}")));
        return (found == Present, seen);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>A route to TO ("default" or a CIDR), optionally via a gateway and/or dev (YAML <c>route</c>).</summary>
    public static ExpectClause Route(this ExpectationPicker expect, string to, string? dev = null, string? via = null, bool present = true,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(RouteExpectation.Kind, file, line, ("to", to), ("dev", dev), ("via", via), ("present", present));
}
