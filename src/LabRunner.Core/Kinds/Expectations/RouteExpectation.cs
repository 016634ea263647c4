using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Kinds;
using static LabRunner.Execution.IpJson;

namespace LabRunner.Model;

/// <summary>A route is (or is not) in a namespace's main table; an IPv6 route (IPv6 destination or gateway) in IPv6's.</summary>
public sealed record RouteExpectation(Place In, string Destination, string? Device, string? Via, bool Present) : Expectation
{
    public static readonly ExpectationKind Kind = new("route", "ip [-6] route show: has (or has not) a route to TO [via VIA] [dev DEV]",
        [
            new("to", FieldType.RouteDestination, "'default' or a CIDR (IPv6: a network such as fd00:200::/64, ::/0 for the default without a gateway)", Required: true),
            new("dev", FieldType.Interface, "the link out"),
            new("via", FieldType.IpAddress, "the gateway, IPv4 or IPv6 ('to: default' with an IPv6 gateway is IPv6's default route)"),
            new("present", FieldType.Boolean, "whether it must be there (default true)"),
            FieldSpec.In,
        ],
        r =>
        {
            var to = r.RouteDestination("to", required: true, ipv6: true);
            var dev = r.Interface("dev");
            var via = r.IpAddress("via");
            RouteAdd.CheckFamilies(r, to, via);
            var present = r.Bool("present") ?? true;
            return to is null ? null : new RouteExpectation(r.PlaceOf(), to, dev, via, present);
        }, rank: 60);

    /// <summary>An IPv6 route: its destination or its gateway is IPv6 (read from <c>ip -6 route show</c>).</summary>
    public bool IsIPv6 => Loading.Names.IsV6(Destination) || Via is not null && Loading.Names.IsV6(Via);

    public override string Keyword => Kind.Keyword;

    public override string Describe() =>
        $"{In} {(Present ? "has" : "has no")} route {Destination}" + (Via is null ? "" : $" via {Via}") + (Device is null ? "" : $" dev {Device}");

    public override void Check(HostModel host) => host.Namespace(In);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var outcome = await context.CheckAsync(IsIPv6 ? context.Target(In).Ip("-6", "-j", "route", "show") : context.Target(In).Ip("-j", "route", "show"), ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var routes = ObserveContext.Json(outcome.Stdout).EnumerateArray().Select(r =>
            (Dst: Str(r, "dst") ?? "", Dev: Str(r, "dev"), Via: Str(r, "gateway"))).ToList();
        // ip prints a host route without its /32 (/128), and IPv6's ::/0 as "default".
        var destination = Destination.EndsWith(IsIPv6 ? "/128" : "/32", StringComparison.Ordinal) ? Destination[..Destination.LastIndexOf('/')]
            : IsIPv6 && Destination.EndsWith("/0", StringComparison.Ordinal) ? "default" : Destination;
        var found = routes.Any(r => r.Dst == destination && (Device is null || r.Dev == Device) && (Via is null || r.Via == Via));
        var seen = routes.Count == 0 ? "no routes" : string.Join("; ", routes.Select(r => r.Dst + (r.Via is null ? "" : $" via {r.Via}") + (r.Dev is null ? "" : $" dev {r.Dev}")));
        return (found == Present, seen);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>
    /// A route to TO ("default" or a CIDR), optionally via a gateway and/or dev (YAML <c>route</c>); IPv6 when TO or VIA
    /// is ("::/0" for IPv6's default without a gateway).
    /// </summary>
    public static ExpectClause Route(this ExpectationPicker expect, string to, string? dev = null, string? via = null, bool present = true,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(RouteExpectation.Kind, file, line, ("to", to), ("dev", dev), ("via", via), ("present", present));
}
