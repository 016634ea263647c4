using System.Globalization;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Model;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

public enum ActionStatus
{
    Done,
    FailedAsExpected,
    Failed,
    /// <summary>The action was expected to fail but succeeded.</summary>
    DidNotFail,
    /// <summary>The action failed, but not with the expected error.</summary>
    FailedDifferently,
}

public sealed record ActionOutcome(ActionStatus Status, string? Observed = null)
{
    public bool Ok => Status is ActionStatus.Done or ActionStatus.FailedAsExpected;
}

/// <summary>
/// Turns each action into iproute2 / sysctl / iptables argv for its namespace, journals the undo first
/// (write-ahead), then runs it. All host changes of a lab go through here or a container runtime.
/// Interface names always follow the keyword 'name' or 'dev': a link called "up" or "type" must not read as one.
/// </summary>
public sealed class ActionExecutor(LabSession session, LabJournal journal, ICommandRunner runner, IContainerRuntime runtime)
{
    private bool _mustFail;

    public async Task<ActionOutcome> ExecuteAsync(LabAction action, CancellationToken ct)
    {
        _mustFail = action.ExpectedError is not null;
        CommandOutcome outcome;
        try
        {
            outcome = await RunAsync(action, ct);
        }
        catch (ContainerStartException e)
        {
            outcome = new CommandOutcome(1, "", e.Message, TimeSpan.Zero);
        }
        if (action.ExpectedError is null)
            return outcome.Succeeded ? new(ActionStatus.Done) : new(ActionStatus.Failed, outcome.Error);
        if (runner.IsDryRun) return new(ActionStatus.FailedAsExpected, session.Expand(action.ExpectedError));
        if (outcome.Succeeded) return new(ActionStatus.DidNotFail, "it succeeded");
        var expected = session.Expand(action.ExpectedError);
        return outcome.Output.Contains(expected, StringComparison.Ordinal)
            ? new(ActionStatus.FailedAsExpected, outcome.Error)
            : new(ActionStatus.FailedDifferently, outcome.Error);
    }

    private async Task<CommandOutcome> RunAsync(LabAction action, CancellationToken ct)
    {
        switch (action)
        {
            case NetnsAdd a:
            {
                var name = session.PhysicalNetns(a.Name);
                return await DoAsync(["ip", "netns", "add", name], DeleteNetns(name, a.Name), ct);
            }
            case NetnsDelete a:
                return await ReleaseAsync(["ip", "netns", "delete", session.PhysicalNetns(a.Name)], NetnsResource(session.PhysicalNetns(a.Name)), ct);
            case VethAdd a:
            {
                var t = session.Target(a.In);
                string[] peerNetns = a.PeerIn is null ? [] : ["netns", session.Target(a.PeerIn).NetnsArgument];
                return await DoAsync(t.Ip(["link", "add", "name", a.Name, "type", "veth", "peer", "name", a.Peer, .. peerNetns]), DeleteLink(t, a.Name), ct);
            }
            case BridgeAdd a:
            {
                var t = session.Target(a.In);
                return await DoAsync(t.Ip("link", "add", "name", a.Name, "type", "bridge"), DeleteLink(t, a.Name), ct);
            }
            case VxlanAdd a:
            {
                var t = session.Target(a.In);
                string[] argv =
                [
                    "link", "add", "name", a.Name, "type", "vxlan", "id", a.Id.ToString(CultureInfo.InvariantCulture),
                    .. a.Remote is null ? [] : new[] { "remote", a.Remote }, .. a.Local is null ? [] : new[] { "local", a.Local },
                    .. a.Dev is null ? [] : new[] { "dev", a.Dev }, "dstport", a.Port.ToString(CultureInfo.InvariantCulture),
                ];
                return await DoAsync(t.Ip(argv), DeleteLink(t, a.Name), ct);
            }
            case LinkSetState a:
                // Only links the lab created may be set up or down (the validator enforces it): they are deleted at teardown.
                return await DoAsync(session.Target(a.In).Ip("link", "set", "dev", a.Name, a.Up ? "up" : "down"), null, ct);
            case LinkMove a:
            {
                var from = session.Target(a.From);
                var to = session.Target(a.To);
                string[] up = a.Up ? ["up"] : [];
                return await DoAsync(from.Ip(["link", "set", "dev", a.Name, .. up, "netns", to.NetnsArgument]), DeleteLink(to, a.Name), ct);
            }
            case LinkDelete a:
            {
                var t = session.Target(a.In);
                return await ReleaseAsync(t.Ip("link", "delete", "dev", a.Name), LinkResource(t, a.Name), ct);
            }
            case BridgeAttach a:
            {
                var t = session.Target(a.In);
                var undo = new UndoCommand($"detach {a.Link} from {a.Bridge} in {t.Label}", [.. t.Ip("link", "set", "dev", a.Link, "nomaster")],
                    [.. GoneErrors.Link, .. GoneErrors.Namespace], null);
                return await DoAsync(t.Ip("link", "set", "dev", a.Link, "master", a.Bridge), undo, ct);
            }
            case BridgeDetach a:
                return await DoAsync(session.Target(a.In).Ip("link", "set", "dev", a.Link, "nomaster"), null, ct);
            case AddressAdd a:
            {
                var t = session.Target(a.In);
                var undo = new UndoCommand($"remove {a.Cidr} from {a.Device} in {t.Label}", [.. t.Ip("addr", "del", a.Cidr, "dev", a.Device)],
                    ["Cannot assign requested address", .. GoneErrors.Link, .. GoneErrors.Namespace],
                    new Verification(VerificationKind.Absent, [.. t.Ip("-o", "addr", "show", "dev", a.Device, "to", a.Cidr)], null));
                return await DoAsync(t.Ip("addr", "add", a.Cidr, "dev", a.Device), undo, ct);
            }
            case RouteAdd a:
            {
                var t = session.Target(a.In);
                string[] spec = [a.Destination, .. a.Via is null ? Array.Empty<string>() : ["via", a.Via], .. a.Device is null ? Array.Empty<string>() : ["dev", a.Device]];
                var undo = new UndoCommand($"remove route {spec.Display()} in {t.Label}", [.. t.Ip(["route", "del", .. spec])],
                    ["No such process", .. GoneErrors.Link, .. GoneErrors.Namespace],
                    new Verification(VerificationKind.Absent, [.. t.Ip(["route", "show", .. spec])], null));
                return await DoAsync(t.Ip(["route", "add", .. spec]), undo, ct);
            }
            case SysctlSet a:
            {
                var t = session.Target(a.In);
                var read = t.Exec("sysctl", "-n", a.Key);
                var old = await runner.RunAsync(read, CommandPurpose.Check, ct);
                if (!old.Succeeded) return old;
                var oldValue = runner.IsDryRun ? $"<old {a.Key}>" : ExpectationEvaluator.Words(old.Stdout);
                var undo = new UndoCommand($"restore {a.Key}={oldValue} in {t.Label}", [.. t.Exec("sysctl", "-w", $"{a.Key}={oldValue}")],
                    GoneErrors.Namespace, new Verification(VerificationKind.FirstLineEquals, [.. read], oldValue));
                return await DoAsync(t.Exec("sysctl", "-w", $"{a.Key}={a.Value}"), undo, ct);
            }
            case IptablesPolicy a:
            {
                var t = session.Target(a.In);
                var read = t.Exec("iptables", "-t", a.Table, "-S", a.Chain);
                var current = await runner.RunAsync(read, CommandPurpose.Check, ct);
                if (!current.Succeeded) return current;
                var oldPolicy = runner.IsDryRun ? "<old policy>" : ParsePolicy(current.Stdout, a.Chain);
                if (oldPolicy is null)
                    return new CommandOutcome(1, "", $"chain {a.Chain} of table {a.Table} has no policy (a user-defined chain?)", TimeSpan.Zero);
                var undo = new UndoCommand($"restore {a.Table} {a.Chain} policy {oldPolicy} in {t.Label}", [.. t.Exec("iptables", "-t", a.Table, "-P", a.Chain, oldPolicy)],
                    GoneErrors.Namespace, new Verification(VerificationKind.FirstLineEquals, [.. read], $"-P {a.Chain} {oldPolicy}"));
                return await DoAsync(t.Exec("iptables", "-t", a.Table, "-P", a.Chain, a.Policy), undo, ct);
            }
            case ContainerRun a:
            {
                var share = a.ShareNetnsWith is null ? null : session.Container(a.ShareNetnsWith);
                var request = new ContainerStartRequest(session.LabId, a.Name, session.PhysicalName(a.Name), a.Image, share);
                var handle = await runtime.StartAsync(request, journal, ct);
                session.AddContainer(handle);
                return new CommandOutcome(0, handle.Pid, "", TimeSpan.Zero);
            }
            case ContainerStop a:
            {
                var container = session.Container(a.Name);
                await runtime.StopAsync(container, ct);
                journal.Release(ContainerResource(container.Id));
                session.RemoveContainer(a.Name);
                return new CommandOutcome(0, "", "", TimeSpan.Zero);
            }
            case NetnsSymlink a:
            {
                var pid = session.Container(a.Container).Pid;
                var path = $"/var/run/netns/{pid}";
                var target = $"/proc/{pid}/ns/net";
                if (!runner.IsDryRun) Directory.CreateDirectory("/var/run/netns");
                return await DoAsync(["ln", "-s", target, path], new UndoUnlink($"remove {path}", path, target), ct);
            }
            case RunCommand a:
            {
                var argv = a.Argv.Select(session.Expand).ToArray();
                if (a.In.Kind == PlaceKind.Container)
                {
                    // Inside a container only its runtime can run the undo; literal commands there must change nothing.
                    return await runtime.ExecAsync(session.Container(a.In.Name), argv, CommandPurpose.Action, ct);
                }
                var target = session.Target(a.In);
                UndoCommand? undo = a.Undo is { } u
                    ? new UndoCommand($"undo `{argv.Display()}`", [.. target.Exec([.. u.Select(session.Expand)])], [], null)
                    : null;
                return await DoAsync(target.Exec(argv), undo, ct);
            }
            default:
                throw new NotSupportedException($"no executor for action {action.Keyword}");
        }
    }

    /// <summary>
    /// Write-ahead: the undo is on disk before the command runs; cancelled if the command failed (it made nothing).
    /// A plan assumes that an action that must fail does fail, so its undo is not listed either.
    /// </summary>
    private async Task<CommandOutcome> DoAsync(IReadOnlyList<string> argv, UndoRecord? undo, CancellationToken ct)
    {
        int? seq = undo is null ? null : journal.Append(undo);
        var outcome = await runner.RunAsync(argv, CommandPurpose.Action, ct);
        if (seq is { } s && (!outcome.Succeeded || (runner.IsDryRun && _mustFail))) journal.Cancel(s);
        return outcome;
    }

    /// <summary>
    /// A delete action: once it succeeds, earlier undos of the same object are released, so that teardown never
    /// deletes by name something that someone else may have created with that name since.
    /// </summary>
    private async Task<CommandOutcome> ReleaseAsync(IReadOnlyList<string> argv, ResourceRef resource, CancellationToken ct)
    {
        var outcome = await DoAsync(argv, null, ct);
        if (outcome.Succeeded) journal.Release(resource);
        return outcome;
    }

    internal static ResourceRef NetnsResource(string physical) => ResourceRef.ForNetns(physical);

    internal static ResourceRef LinkResource(NetTarget t, string name) => ResourceRef.ForLink(name, t.NetnsArgument);

    internal static ResourceRef ContainerResource(string id) => ResourceRef.ForContainer(id);

    internal static UndoCommand DeleteNetns(string physical, string label) =>
        new($"delete netns {label}", ["ip", "netns", "delete", physical], ["No such file or directory"],
            new Verification(VerificationKind.PathAbsent, [], $"/var/run/netns/{physical}")) { Resource = NetnsResource(physical) };

    internal static UndoCommand DeleteLink(NetTarget t, string name) =>
        new($"delete link {name} in {t.Label}", [.. t.Ip("link", "delete", "dev", name)], [.. GoneErrors.Link, .. GoneErrors.Namespace],
            new Verification(VerificationKind.Absent, [.. t.Ip("link", "show", "dev", name)], null)) { Resource = LinkResource(t, name) };

    internal static string? ParsePolicy(string iptablesS, string chain)
    {
        var prefix = $"-P {chain} ";
        return iptablesS.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..].Trim();
    }
}
