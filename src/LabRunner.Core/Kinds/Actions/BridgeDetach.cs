using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>brctl delif BRIDGE LINK</c> (ip link set LINK nomaster).</summary>
public sealed record BridgeDetach(string Bridge, string Link, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("bridge-detach", "ip link set dev LINK nomaster",
        [new("bridge", FieldType.Interface, "the bridge", Required: true), new("link", FieldType.Interface, "the port to detach", Required: true), FieldSpec.In],
        r =>
        {
            var bridge = r.Interface("bridge", required: true);
            var link = r.Interface("link", required: true);
            var place = r.PlaceOf();
            return bridge is null || link is null ? null : new BridgeDetach(bridge, link, place);
        }, rank: 110);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host)
    {
        if (host.BridgePort(In, Bridge, Link) is { } port && !host.Fails) port.Master = null;
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct) =>
        context.DoAsync(context.Target(In).Ip("link", "set", "dev", Link, "nomaster"),
            Undo.None("the port and the bridge are the lab's, deleted at teardown"), ct);
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>brctl delif BRIDGE LINK</c> (YAML <c>bridge-detach</c>).</summary>
    public static ActionClause Detach(this StepBuilder step, string bridge, string link, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(BridgeDetach.Kind, file, line, ("bridge", bridge), ("link", link));
}
