using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Model;
using LabRunner.Runtimes;

namespace LabRunner.Kinds;

/// <summary>
/// What an action's <see cref="LabAction.RunAsync"/> works with: the run's live names, its journal, the command runner
/// and the container runtime, and the two ways to change the host: <see cref="DoAsync"/> (with an undo, journalled
/// first) and <see cref="ReleaseAsync"/> (a removal).
/// </summary>
public sealed class ActionContext(LabSession session, LabJournal journal, ICommandRunner runner, IContainerRuntime runtime, bool mustFail)
{
    public LabSession Session { get; } = session;

    public LabJournal Journal { get; } = journal;

    public ICommandRunner Runner { get; } = runner;

    public IContainerRuntime Runtime { get; } = runtime;

    public bool IsDryRun => Runner.IsDryRun;

    /// <summary>The namespace a place stands for, and how to run commands in it.</summary>
    public NetTarget Target(Place place) => Session.Target(place);

    /// <summary>Runs a command that checks something (its output decides the undo), shown as a check in transcripts.</summary>
    public Task<CommandOutcome> CheckAsync(IReadOnlyList<string> argv, CancellationToken ct) => Runner.RunAsync(argv, CommandPurpose.Check, ct);

    /// <summary>
    /// Write-ahead: the undo is on disk before the command runs; cancelled if the command failed (it made nothing).
    /// A plan assumes that an action that must fail does fail, so its undo is not listed either.
    /// </summary>
    public async Task<CommandOutcome> DoAsync(IReadOnlyList<string> argv, Undo undo, CancellationToken ct)
    {
        int? seq = undo.Record is { } record ? Journal.Append(record) : null;
        var outcome = await Runner.RunAsync(argv, CommandPurpose.Action, ct);
        if (seq is { } s && (!outcome.Succeeded || (Runner.IsDryRun && mustFail))) Journal.Cancel(s);
        return outcome;
    }

    /// <summary>
    /// A delete action: once it succeeds, earlier undos of the same object are released, so that teardown never
    /// deletes by name something that someone else may have created with that name since.
    /// </summary>
    public async Task<CommandOutcome> ReleaseAsync(IReadOnlyList<string> argv, ResourceRef resource, CancellationToken ct)
    {
        var outcome = await DoAsync(argv, Undo.None("it removes something; earlier undos of it are released"), ct);
        if (outcome.Succeeded) Journal.Release(resource);
        return outcome;
    }
}

/// <summary>
/// The undo of a change: a journal record, or (<see cref="None"/>) a stated reason why there is none. There is no
/// default: every change says which.
/// </summary>
public readonly record struct Undo
{
    private Undo(UndoRecord? record, string? whyNone) => (Record, WhyNone) = (record, whyNone);

    public UndoRecord? Record { get; }

    public string? WhyNone { get; }

    /// <summary>No undo, and why (e.g. "the link is deleted at teardown").</summary>
    public static Undo None(string why) => new(null, why);

    public static implicit operator Undo(UndoRecord record) => new(record ?? throw new ArgumentNullException(nameof(record), "an undo record; use Undo.None(why) for none"), null);
}

/// <summary>What --host's preflight can ask of the caller's namespace before the lab changes anything.</summary>
public interface IHostProbe
{
    Task<bool> LinkExistsAsync(string name, CancellationToken ct);

    bool NetnsExists(string name);

    /// <summary>The container runtime's name, for messages.</summary>
    string RuntimeName { get; }

    /// <summary>Whether the runtime already has a container with this scenario name's machine-wide name (null: cannot tell).</summary>
    Task<bool?> ContainerExistsAsync(string name, CancellationToken ct);
}
