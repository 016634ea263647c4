using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>ip route add DESTINATION [via GATEWAY] [dev DEVICE]</c>; DESTINATION may be "default".</summary>
public sealed record RouteAdd(string Destination, string? Device, string? Via, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("route-add", "ip route add TO [via VIA] [dev DEV]",
        [
            new("to", FieldType.RouteDestination, "'default' or a CIDR", Required: true),
            new("dev", FieldType.Interface, "the link out (this or 'via' is needed)"),
            new("via", FieldType.Ipv4, "the gateway"),
            FieldSpec.In,
        ],
        r =>
        {
            var to = r.RouteDestination("to", required: true);
            var dev = r.Interface("dev");
            var via = r.Ip("via");
            if (dev is null && via is null && r.Has("to")) r.Error(r.Span, "a route needs 'dev' or 'via'", "e.g. 'dev: veth-2' for the article's default route");
            return to is null ? null : new RouteAdd(to, dev, via, r.PlaceOf());
        }, rank: 130);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is { } key && Device is not null) host.Link(key, In, Device);
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        string[] spec = [Destination, .. Via is null ? Array.Empty<string>() : ["via", Via], .. Device is null ? Array.Empty<string>() : ["dev", Device]];
        var undo = new UndoCommand($"remove route {spec.Display()} in {t.Label}", [.. t.Ip(["route", "del", .. spec])],
            ["No such process", .. GoneErrors.Link, .. GoneErrors.Namespace],
            new Verification(VerificationKind.Absent, [.. t.Ip(["route", "show", .. spec])], null));
        return context.DoAsync(t.Ip(["route", "add", .. spec]), undo, ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip route add TO [via VIA] [dev DEV]</c> (YAML <c>route-add</c>); TO may be "default".</summary>
    public static ActionClause Route(this StepBuilder step, string to, string? dev = null, string? via = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(RouteAdd.Kind, file, line, ("to", to), ("dev", dev), ("via", via));
}
