using System.Globalization;
using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// <c>ip link add link PARENT name NAME type vlan id ID</c>: an 802.1Q sub-interface whose frames leave PARENT tagged
/// with ID, and which receives only frames tagged ID (a switch's trunk port, seen from the host). Two containers reach
/// each other over a shared wire only when their VLAN ids match. Undone by deleting it. Needs the kernel's 8021q.
/// </summary>
public sealed record VlanAdd(string Name, string Link, int Id, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("vlan-add", "ip link add link PARENT name NAME type vlan id ID",
        [
            new("name", FieldType.Interface, "the new link, e.g. eth0.10", Required: true),
            new("link", FieldType.Interface, "the parent link whose frames carry the tag", Required: true),
            new("id", FieldType.Integer, "the VLAN id, 1-4094", Required: true) { Min = 1, Max = 4094 },
            FieldSpec.In,
        ],
        r =>
        {
            var name = r.Interface("name", required: true);
            var link = r.Interface("link", required: true);
            var id = r.Int("id", 1, 4094, required: true);
            return name is null || link is null || id is null ? null : new VlanAdd(name, link, id.Value, r.PlaceOf());
        }, rank: 56);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<KernelFeature> KernelFeatures => [KernelFeature.Vlan];

    public override void Apply(HostModel host) => host.AddLinkOn(In, Link, Name, new ModelLink($"vlan {Id}"));

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        return context.DoAsync(t.Ip("link", "add", "link", Link, "name", Name, "type", "vlan", "id", Id.ToString(CultureInfo.InvariantCulture)),
            ActionExecutor.DeleteLink(t, Name), ct);
    }

    public override Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct) => NewLinkClashesAsync(host, In, Name, ct);
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip link add link PARENT name NAME type vlan id ID</c> (YAML <c>vlan-add</c>); deleted at teardown.</summary>
    public static ActionClause Vlan(this StepBuilder step, string name, string link, int id,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(VlanAdd.Kind, file, line, ("name", name), ("link", link), ("id", id));
}
