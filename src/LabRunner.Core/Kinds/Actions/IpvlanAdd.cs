using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// <c>ip link add link PARENT name NAME type ipvlan mode MODE</c>: like macvlan, a link on a parent with no bridge, but
/// every ipvlan shares the parent's MAC (one MAC on the wire, for networks that allow one per port); in <c>l3</c> mode
/// the parent routes between them and no ARP crosses. Undone by deleting it. Needs the kernel's ipvlan.
/// </summary>
public sealed record IpvlanAdd(string Name, string Link, string Mode, Place In) : LabAction
{
    public static readonly IReadOnlyList<string> Modes = ["l2", "l3", "l3s"];

    public static readonly ActionKind Kind = new("ipvlan-add", "ip link add link PARENT name NAME type ipvlan mode MODE",
        [
            new("name", FieldType.Interface, "the new link", Required: true),
            new("link", FieldType.Interface, "the parent link, e.g. the uplink ens3", Required: true),
            new("mode", FieldType.Choice, "l2 (the default: ARP on the parent's wire), l3 (routed by the parent, no ARP) or l3s") { Choices = [.. Modes] },
            FieldSpec.In,
        ],
        r =>
        {
            var name = r.Interface("name", required: true);
            var link = r.Interface("link", required: true);
            var mode = r.Choice("mode", Modes, "unknown ipvlan mode '{0}'", "use l2, l3 or l3s", fallback: "l2")!;
            return name is null || link is null ? null : new IpvlanAdd(name, link, mode, r.PlaceOf());
        }, rank: 57);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<KernelFeature> KernelFeatures => [KernelFeature.Ipvlan];

    public override void Apply(HostModel host) => host.AddLinkOn(In, Link, Name, new ModelLink($"ipvlan {Mode}"));

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        return context.DoAsync(t.Ip("link", "add", "link", Link, "name", Name, "type", "ipvlan", "mode", Mode), ActionExecutor.DeleteLink(t, Name), ct);
    }

    public override Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct) => NewLinkClashesAsync(host, In, Name, ct);
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip link add link PARENT name NAME type ipvlan mode MODE</c> (YAML <c>ipvlan-add</c>); deleted at teardown.</summary>
    public static ActionClause Ipvlan(this StepBuilder step, string name, string link, string mode = "l2",
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(IpvlanAdd.Kind, file, line, ("name", name), ("link", link), ("mode", mode));
}
