using System.Runtime.CompilerServices;
using LabRunner.Execution;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary><c>ip link set dev NAME up|down</c> of a link the lab made (two keywords: link-up, link-down).</summary>
public sealed record LinkSetState(string Name, Place In, bool Up) : LabAction
{
    public static readonly ActionKind UpKind = Define("link-up", true, rank: 60);

    public static readonly ActionKind DownKind = Define("link-down", false, rank: 70);

    private static ActionKind Define(string keyword, bool up, int rank) => new(keyword, $"ip link set dev NAME {(up ? "up" : "down")}",
        [new("name", FieldType.Interface, "a link the lab made", Required: true), FieldSpec.In],
        r => r.Interface("name", required: true) is { } n ? new LinkSetState(n, r.PlaceOf(), up) : null,
        shortForm: "name", rank: rank);

    public override string Keyword => (Up ? UpKind : DownKind).Keyword;

    public override bool LeavesNewContainersAlone => true;

    public override void Apply(HostModel host)
    {
        if (host.Namespace(In) is { } key && host.OwnLink(key, In, Name, Up ? "set up" : "set down") is { } link && !host.Fails)
        {
            link.Up = Up;
            // The kernel drops a link's IPv6 addresses when it is set down (net.ipv6.conf.*.keep_addr_on_down = 0); IPv4 ones stay.
            if (!Up) link.Addresses.RemoveAll(Loading.Names.IsV6);
        }
    }

    public override Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct) =>
        context.DoAsync(context.Target(In).Ip("link", "set", "dev", Name, Up ? "up" : "down"),
            Undo.None("only links the lab made may be set up or down (the validator enforces it), and they are deleted at teardown"), ct);
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary><c>ip link set NAME up</c> (YAML <c>link-up</c>).</summary>
    public static ActionClause LinkUp(this StepBuilder step, string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(LinkSetState.UpKind, file, line, ("name", name));

    /// <summary><c>ip link set NAME down</c> (YAML <c>link-down</c>).</summary>
    public static ActionClause LinkDown(this StepBuilder step, string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(LinkSetState.DownKind, file, line, ("name", name));
}
