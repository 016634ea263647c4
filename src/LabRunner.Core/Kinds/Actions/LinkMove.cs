using System.Runtime.CompilerServices;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>ip link set NAME [up] netns TARGET</c>; a container target is reached by its PID, as the article does.</summary>
public sealed record LinkMove(string Name, Place From, Place To, bool Up) : LabAction
{
    public static readonly ActionKind Kind = new("link-move", "ip link set dev NAME [up] netns TO",
        [
            new("name", FieldType.Interface, "a link the lab made", Required: true),
            FieldSpec.In with { Doc = "where the link is now (default host)" },
            new("to", FieldType.Place, "the netns or container it moves into", Required: true),
            new("up", FieldType.Boolean, "set it up as it moves (default false)"),
        ],
        r =>
        {
            var name = r.Interface("name", required: true);
            var from = r.PlaceOf();
            var to = r.OptionalPlace("to");
            if (to is null) r.Error(r.Span, "'to' is missing", "name the netns or container the link moves into");
            var up = r.Bool("up") ?? false;
            return name is null || to is null ? null : new LinkMove(name, from, to, up);
        }, rank: 80);

    public override string Keyword => Kind.Keyword;

    public override bool LeavesNewContainersAlone => true;

    public override void Apply(HostModel host)
    {
        var from = host.Namespace(From);
        var to = host.Namespace(To);
        if (from is null || to is null) return;
        var link = host.OwnLink(from, From, Name, "move");
        if (link is null || host.Fails) return;
        if (link.Kind == "bridge") host.Error("a bridge cannot change network namespace", "move a veth end instead");
        host.MoveLink(from, to, To, Name, Up);
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var from = context.Target(From);
        var to = context.Target(To);
        string[] up = Up ? ["up"] : [];
        return context.DoAsync(from.Ip(["link", "set", "dev", Name, .. up, "netns", to.NetnsArgument]), ActionExecutor.DeleteLink(to, Name), ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// <c>ip link set NAME [up] netns TO</c> (YAML <c>link-move</c>); a container is reached by its PID, as the
    /// article does. <c>.In(x)</c> moves it from x instead of the host.
    /// </summary>
    public static ActionClause MoveLink(this StepBuilder step, string name, string to, bool up = false, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(LinkMove.Kind, file, line, ("name", name), ("to", to), ("up", up));
}
