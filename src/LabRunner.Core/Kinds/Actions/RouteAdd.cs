using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// <c>ip route add DESTINATION [via GATEWAY] [dev DEVICE]</c>; DESTINATION may be "default". An IPv6 route (an IPv6
/// destination or gateway; ::/0 is IPv6's default) is <c>ip -6 route add</c>.
/// </summary>
public sealed record RouteAdd(string Destination, string? Device, string? Via, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("route-add", "ip [-6] route add TO [via VIA] [dev DEV]",
        [
            new("to", FieldType.RouteDestination, "'default' or a CIDR (IPv6: a network such as fd00:200::/64, ::/0 for the default without a gateway)", Required: true),
            new("dev", FieldType.Interface, "the link out (this or 'via' is needed)"),
            new("via", FieldType.IpAddress, "the gateway, IPv4 or IPv6 ('to: default' with an IPv6 gateway is IPv6's default route)"),
            FieldSpec.In,
        ],
        r =>
        {
            var to = r.RouteDestination("to", required: true, ipv6: true);
            var dev = r.Interface("dev");
            var via = r.IpAddress("via");
            if (dev is null && via is null && r.Has("to")) r.Error(r.Span, "a route needs 'dev' or 'via'", "e.g. 'dev: veth-2' for the article's default route");
            CheckFamilies(r, to, via);
            if (via is not null && dev is null && Loading.Names.IsIPv6(via) && System.Net.IPAddress.Parse(via).IsIPv6LinkLocal)
                r.Error(r.SpanOf("via"), $"the link-local gateway {via} is reachable only on one link: give 'dev'", "e.g. 'dev: veth-2'");
            return to is null ? null : new RouteAdd(to, dev, via, r.PlaceOf());
        }, rank: 130);

    /// <summary>An IPv6 route: its destination or its gateway is IPv6.</summary>
    public bool IsIPv6 => Loading.Names.IsV6(Destination) || Via is not null && Loading.Names.IsV6(Via);

    /// <summary>A route's destination and gateway are of one family (shared with the route expectation).</summary>
    internal static void CheckFamilies(FieldReader r, string? to, string? via)
    {
        if (to is null || via is null || to == "default" || Loading.Names.IsV6(to) == Loading.Names.IsV6(via)) return;
        r.Error(r.SpanOf("via"), Loading.Names.IsV6(via)
                ? $"the gateway {via} is IPv6 but '{to}' is an IPv4 destination"
                : $"the gateway {via} is IPv4 but '{to}' is an IPv6 destination",
            "give the destination and the gateway in one family");
    }

    public override string Keyword => Kind.Keyword;

    public override bool LeavesNewContainersAlone => true;

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is { } key && Device is not null) host.Link(key, In, Device);
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        string[] spec = [Destination, .. Via is null ? Array.Empty<string>() : ["via", Via], .. Device is null ? Array.Empty<string>() : ["dev", Device]];
        string[] family = IsIPv6 ? ["-6"] : [];
        var undo = new UndoCommand($"remove route {spec.Display()} in {t.Label}", [.. t.Ip([.. family, "route", "del", .. spec])],
            ["No such process", .. GoneErrors.Link, .. GoneErrors.Namespace],
            new Verification(VerificationKind.Absent, [.. t.Ip([.. family, "route", "show", .. spec])], null));
        return context.DoAsync(t.Ip([.. family, "route", "add", .. spec]), undo, ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// <c>ip route add TO [via VIA] [dev DEV]</c> (YAML <c>route-add</c>); TO may be "default". IPv6 (an IPv6 TO or VIA;
    /// "::/0" for the default without a gateway) is <c>ip -6 route add</c>.
    /// </summary>
    public static ActionClause Route(this StepBuilder step, string to, string? dev = null, string? via = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(RouteAdd.Kind, file, line, ("to", to), ("dev", dev), ("via", via));
}
