using System.Runtime.CompilerServices;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>ip netns delete NAME</c> of a namespace the lab made; its links (and their veth peers) go with it.</summary>
public sealed record NetnsDelete(string Name) : LabAction
{
    public static readonly ActionKind Kind = new("netns-delete", "ip netns delete NAME",
        [new("name", FieldType.Name, "a namespace the lab made", Required: true)],
        r => r.Object("name", "netns") is { } n ? new NetnsDelete(n) : null,
        shortForm: "name", rank: 20);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host)
    {
        if (!host.NetnsExists(Name)) host.Error($"netns '{Name}' does not exist at this point");
        else if (!host.Fails) host.DeleteNetns(Name);
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var name = context.Session.PhysicalNetns(Name);
        return context.ReleaseAsync(["ip", "netns", "delete", name], ActionExecutor.NetnsResource(name), ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip netns delete NAME</c> (YAML <c>netns-delete</c>).</summary>
    public static ActionClause DeleteNetns(this StepBuilder step, string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(NetnsDelete.Kind, file, line, ("name", name));
}
