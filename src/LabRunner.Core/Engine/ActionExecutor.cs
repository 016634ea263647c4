using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Kinds;
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
/// Runs an action (its own <see cref="LabAction.RunAsync"/>: argv for its namespace, the undo journalled first) and
/// judges the outcome against what the lab expected: success, or failure with its 'fails-with' text. All host changes
/// of a lab go through the actions or a container runtime.
/// </summary>
public sealed class ActionExecutor(LabSession session, LabJournal journal, ICommandRunner runner, IContainerRuntime runtime)
{
    public async Task<ActionOutcome> ExecuteAsync(LabAction action, CancellationToken ct)
    {
        CommandOutcome outcome;
        try
        {
            outcome = await action.RunAsync(new ActionContext(session, journal, runner, runtime, mustFail: action.ExpectedError is not null), ct);
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

    internal static ResourceRef NetnsResource(string physical) => ResourceRef.ForNetns(physical);

    internal static ResourceRef LinkResource(NetTarget t, string name) => ResourceRef.ForLink(name, t.NetnsArgument);

    internal static ResourceRef ContainerResource(string id) => ResourceRef.ForContainer(id);

    internal static UndoCommand DeleteNetns(string physical, string label) =>
        new($"delete netns {label}", ["ip", "netns", "delete", physical], ["No such file or directory"],
            new Verification(VerificationKind.PathAbsent, [], $"/var/run/netns/{physical}")) { Resource = NetnsResource(physical) };

    internal static UndoCommand DeleteLink(NetTarget t, string name) =>
        new($"delete link {name} in {t.Label}", [.. t.Ip("link", "delete", "dev", name)], [.. GoneErrors.Link, .. GoneErrors.Namespace],
            new Verification(VerificationKind.Absent, [.. t.Ip("link", "show", "dev", name)], null)) { Resource = LinkResource(t, name) };
}
