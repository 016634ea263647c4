using System.Runtime.CompilerServices;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>Stops and removes a container of the lab; its namespace goes when no other container uses it.</summary>
public sealed record ContainerStop(string Name) : LabAction
{
    public static readonly ActionKind Kind = new("container-stop", "stop and remove a container of the lab",
        [new("name", FieldType.Container, "a running container of the lab", Required: true)],
        r => r.Container("name") is { } n ? new ContainerStop(n) : null,
        shortForm: "name", rank: 170);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host)
    {
        if (!host.IsRunning(Name))
        {
            host.Error($"container '{Name}' is not running at this point");
            return;
        }
        if (!host.Fails) host.StopContainer(Name);
    }

    public override async Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var container = context.Session.Container(Name);
        await context.Runtime.StopAsync(container, ct);
        context.Journal.Release(ActionExecutor.ContainerResource(container.Id));
        context.Session.RemoveContainer(Name);
        return new CommandOutcome(0, "", "", TimeSpan.Zero);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>Stops a container (YAML <c>container-stop</c>).</summary>
    public static ActionClause StopContainer(this StepBuilder step, string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(ContainerStop.Kind, file, line, ("name", name));
}
