using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;
using LabRunner.Runtimes;

namespace LabRunner.Model;

/// <summary>Starts a container (busybox), optionally in the network namespace of another one (a pod).</summary>
public sealed record ContainerRun(string Name, string Image, string? ShareNetnsWith) : LabAction
{
    public static readonly ActionKind Kind = new("container-run", "start a busybox container (docker run / ctr run / a process in new namespaces)",
        [
            new("name", FieldType.Name, "the container's name in the lab", Required: true),
            new("image", FieldType.Choice, "busybox (the only image available offline)") { Choices = ["busybox", "docker.io/library/busybox:latest"] },
            new("netns-of", FieldType.Container, "join this running container's network namespace, as a pod does"),
        ],
        r =>
        {
            var name = r.Object("name", "container");
            var image = r.String("image") ?? "busybox";
            if (image != "busybox" && image != "docker.io/library/busybox:latest")
                r.Error(r.SpanOf("image"), $"image '{image}' is not available offline", "use 'busybox' (built from Debian's busybox-static)");
            var share = r.Has("netns-of") ? r.Container("netns-of") : null;
            return name is null ? null : new ContainerRun(name, "busybox", share);
        },
        shortForm: "name", declares: PlaceKind.Container, rank: 160);

    public override string Keyword => Kind.Keyword;

    public override bool LeavesNewContainersAlone => true;

    public override Place? Declares => Place.Container(Name);

    public override bool UsesContainerRuntime => true;

    public override void Apply(HostModel host)
    {
        if (host.IsRunning(Name)) host.Error($"container '{Name}' is already running", "choose another name");
        if (host.WasNetns(Name)) host.Error($"'{Name}' is already a netns name", "netns and container names must differ");
        var owner = Name;
        if (ShareNetnsWith is not null)
        {
            if (host.OwnerOf(ShareNetnsWith) is not { } o)
            {
                host.Error($"container '{ShareNetnsWith}' is not running at this point", "start it before the container that joins its network namespace");
                return;
            }
            owner = o;
        }
        if (!host.Fails) host.StartContainer(Name, owner);
    }

    /// <summary>The runtime journals the container's removal before it starts it (its id is known before the start).</summary>
    public override async Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var session = context.Session;
        var handle = await context.Runtime.StartAsync(Request(session), context.Journal, ct);
        session.AddContainer(handle);
        return new CommandOutcome(0, handle.Pid, "", TimeSpan.Zero);
    }

    /// <summary>What the runtime is asked to start (the one with whose netns it shares must be running already).</summary>
    public ContainerStartRequest Request(Engine.LabSession session) =>
        new(session.LabId, Name, session.PhysicalName(Name), Image, ShareNetnsWith is null ? null : session.Container(ShareNetnsWith));

    public override async Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct) =>
        ExpectedError is null && await host.ContainerExistsAsync(Name, ct) is not false ? [$"container {Name} in {host.RuntimeName} ({Span})"] : [];
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// Starts a busybox container (YAML <c>container-run</c>); with <paramref name="netnsOf"/> it joins that
    /// container's network namespace, as a Kubernetes pod does.
    /// </summary>
    public static ActionClause Container(this StepBuilder step, string name, string? netnsOf = null, string image = "busybox", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(ContainerRun.Kind, file, line, ("name", name), ("image", image), ("netns-of", netnsOf));
}
