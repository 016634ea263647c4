using System.Runtime.CompilerServices;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>ip link delete dev NAME</c> of a link the lab made; a veth's peer goes with it.</summary>
public sealed record LinkDelete(string Name, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("link-delete", "ip link delete dev NAME",
        [new("name", FieldType.Interface, "a link the lab made", Required: true), FieldSpec.In],
        r => r.Interface("name", required: true) is { } n ? new LinkDelete(n, r.PlaceOf()) : null,
        shortForm: "name", rank: 90);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is { } key && host.OwnLink(key, In, Name, "delete") is not null && !host.Fails) host.RemoveLink(key, Name);
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        return context.ReleaseAsync(t.Ip("link", "delete", "dev", Name), ActionExecutor.LinkResource(t, Name), ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip link delete NAME</c> (YAML <c>link-delete</c>).</summary>
    public static ActionClause DeleteLink(this StepBuilder step, string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(LinkDelete.Kind, file, line, ("name", name));
}
