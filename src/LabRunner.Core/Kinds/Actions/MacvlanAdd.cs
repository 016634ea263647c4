using System.Runtime.CompilerServices;
using LabRunner.Authoring;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// <c>ip link add NAME link PARENT type macvlan mode MODE</c>: a link with a MAC of its own on a parent link, no bridge
/// needed (Docker's macvlan network). Usually moved into a container next (<c>link-move</c>). In <c>bridge</c> mode
/// the macvlans of one parent reach each other; the parent itself never reaches them (the classic macvlan surprise).
/// Undone by deleting it.
/// </summary>
public sealed record MacvlanAdd(string Name, string Link, string Mode, Place In) : LabAction
{
    public static readonly IReadOnlyList<string> Modes = ["bridge", "private", "vepa", "passthru"];

    public static readonly ActionKind Kind = new("macvlan-add", "ip link add NAME link PARENT type macvlan mode MODE",
        [
            new("name", FieldType.Interface, "the new link", Required: true),
            new("link", FieldType.Interface, "the parent link, e.g. the uplink ens3", Required: true),
            new("mode", FieldType.Choice, "bridge (the default: macvlans of one parent reach each other), private, vepa or passthru") { Choices = [.. Modes] },
            FieldSpec.In,
        ],
        r =>
        {
            var name = r.Interface("name", required: true);
            var link = r.Interface("link", required: true);
            var mode = r.Choice("mode", Modes, "unknown macvlan mode '{0}'", "use bridge, private, vepa or passthru", fallback: "bridge")!;
            var place = r.PlaceOf();
            return name is null || link is null ? null : new MacvlanAdd(name, link, mode, place);
        }, rank: 55);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host) => host.AddLinkOn(In, Link, Name, new ModelLink($"macvlan {Mode}"));

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        return context.DoAsync(t.Ip("link", "add", "name", Name, "link", Link, "type", "macvlan", "mode", Mode), ActionExecutor.DeleteLink(t, Name), ct);
    }

    public override Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct) => NewLinkClashesAsync(host, In, Name, ct);
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip link add NAME link PARENT type macvlan mode MODE</c> (YAML <c>macvlan-add</c>); deleted at teardown.</summary>
    public static ActionClause Macvlan(this StepBuilder step, string name, string link, string mode = "bridge",
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(MacvlanAdd.Kind, file, line, ("name", name), ("link", link), ("mode", mode));
}
