using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>brctl addif BRIDGE LINK</c> (ip link set LINK master BRIDGE); undone by nomaster.</summary>
public sealed record BridgeAttach(string Bridge, string Link, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("bridge-attach", "ip link set dev LINK master BRIDGE",
        [new("bridge", FieldType.Interface, "a bridge the lab made", Required: true), new("link", FieldType.Interface, "the new port", Required: true), FieldSpec.In],
        r =>
        {
            var bridge = r.Interface("bridge", required: true);
            var link = r.Interface("link", required: true);
            var place = r.PlaceOf();
            return bridge is null || link is null ? null : new BridgeAttach(bridge, link, place);
        }, rank: 100);

    public override string Keyword => Kind.Keyword;

    public override bool LeavesNewContainersAlone => true;

    public override void Apply(HostModel host)
    {
        if (host.BridgePort(In, Bridge, Link) is { } port && !host.Fails) port.Master = Bridge;
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        var undo = new UndoCommand($"detach {Link} from {Bridge} in {t.Label}", [.. t.Ip("link", "set", "dev", Link, "nomaster")],
            [.. GoneErrors.Link, .. GoneErrors.Namespace], null);
        return context.DoAsync(t.Ip("link", "set", "dev", Link, "master", Bridge), undo, ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>brctl addif BRIDGE LINK</c> (YAML <c>bridge-attach</c>).</summary>
    public static ActionClause Attach(this StepBuilder step, string bridge, string link, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(BridgeAttach.Kind, file, line, ("bridge", bridge), ("link", link));
}
