using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>ln -s /proc/PID/ns/net /var/run/netns/PID</c>, so that "ip netns" sees a container's namespace.</summary>
public sealed record NetnsSymlink(string Container) : LabAction
{
    public static readonly ActionKind Kind = new("netns-symlink", "ln -s /proc/PID/ns/net /var/run/netns/PID",
        [new("container", FieldType.Container, "a running container of the lab", Required: true)],
        r => r.Container("container") is { } n ? new NetnsSymlink(n) : null,
        shortForm: "container", rank: 180);

    public override string Keyword => Kind.Keyword;

    public override void Apply(HostModel host)
    {
        if (!host.IsRunning(Container)) host.Error($"container '{Container}' is not running at this point");
        else if (!host.Fails && !host.Symlink(Container)) host.Error($"the netns of '{Container}' is already linked into /var/run/netns");
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var pid = context.Session.Container(Container).Pid;
        var path = $"/var/run/netns/{pid}";
        var target = $"/proc/{pid}/ns/net";
        if (!context.IsDryRun) Directory.CreateDirectory("/var/run/netns");
        return context.DoAsync(["ln", "-s", target, path], new UndoUnlink($"remove {path}", path, target), ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ln -s /proc/PID/ns/net /var/run/netns/PID</c> (YAML <c>netns-symlink</c>), so that <c>ip netns</c> sees the container.</summary>
    public static ActionClause NetnsSymlink(this StepBuilder step, string container, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(Model.NetnsSymlink.Kind, file, line, ("container", container));
}
