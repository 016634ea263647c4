using System.Runtime.CompilerServices;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>ip link add NAME type bridge</c> (brctl addbr).</summary>
public sealed record BridgeAdd(string Name, Place In) : LabAction
{
    public static readonly ActionKind Kind = new("bridge-add", "ip link add NAME type bridge",
        [new("name", FieldType.Interface, "the bridge", Required: true), FieldSpec.In],
        r => r.Interface("name", required: true) is { } n ? new BridgeAdd(n, r.PlaceOf()) : null,
        shortForm: "name", rank: 40);

    public override string Keyword => Kind.Keyword;

    public override bool LeavesNewContainersAlone => true;

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is { } key && !host.Fails) host.AddLink(key, In, Name, new ModelLink("bridge"));
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var t = context.Target(In);
        return context.DoAsync(t.Ip("link", "add", "name", Name, "type", "bridge"), ActionExecutor.DeleteLink(t, Name), ct);
    }

    public override Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct) => NewLinkClashesAsync(host, In, Name, ct);
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip link add NAME type bridge</c> (YAML <c>bridge-add</c>).</summary>
    public static ActionClause Bridge(this StepBuilder step, string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(BridgeAdd.Kind, file, line, ("name", name));
}
