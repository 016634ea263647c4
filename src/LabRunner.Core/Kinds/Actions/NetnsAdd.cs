using System.Runtime.CompilerServices;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>ip netns add NAME</c>: a named network namespace of the lab.</summary>
public sealed record NetnsAdd(string Name) : LabAction
{
    public static readonly ActionKind Kind = new("netns-add", "ip netns add NAME",
        [new("name", FieldType.Name, "the namespace's name", Required: true)],
        r => r.Object("name", "netns") is { } n ? new NetnsAdd(n) : null,
        shortForm: "name", declares: PlaceKind.Netns, rank: 10);

    public override string Keyword => Kind.Keyword;

    public override Place? Declares => Place.Netns(Name);

    public override void Apply(HostModel host)
    {
        if (host.NetnsExists(Name) && !host.Fails) host.Error($"netns '{Name}' already exists", "delete it first, or choose another name");
        if (host.WasContainer(Name)) host.Error($"'{Name}' is already a container name", "netns and container names must differ");
        if (!host.Fails) host.AddNetns(Name);
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var name = context.Session.PhysicalNetns(Name);
        return context.DoAsync(["ip", "netns", "add", name], ActionExecutor.DeleteNetns(name, Name), ct);
    }

    public override Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<string>>(host.NetnsExists(Name) ? [$"netns {Name} ({Span})"] : []);
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip netns add NAME</c> (YAML <c>netns-add</c>).</summary>
    public static ActionClause Netns(this StepBuilder step, string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(NetnsAdd.Kind, file, line, ("name", name));
}
