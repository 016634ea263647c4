using LabRunner.Execution;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// Something a step does to the host. Each kind is a record in a file of its own (src/LabRunner.Core/Kinds/Actions)
/// that holds everything about it: its keyword and fields (its static <c>Kind</c>), what it checks and changes in
/// the <see cref="HostModel"/> (<see cref="Apply"/>), and its commands with the undo journalled first
/// (<see cref="RunAsync"/>). Both are abstract: a kind without validation or undo does not compile.
/// <see cref="ExpectedError"/> marks an action that must fail with that text (the article's
/// "RTNETLINK answers: File exists" is a step of the lab, not an accident).
/// </summary>
public abstract record LabAction
{
    public SourceSpan Span { get; init; } = SourceSpan.None;

    /// <summary>When set, the action must fail and its error output must contain this text.</summary>
    public string? ExpectedError { get; init; }

    /// <summary>The YAML key of this action, used in messages and the reference.</summary>
    public abstract string Keyword { get; }

    /// <summary>
    /// Checks the action against the model of the host at its point in the lab (what must exist, what it may
    /// change) and applies what it creates, moves or removes. While <see cref="HostModel.Fails"/> (the action must
    /// fail) it checks but changes nothing.
    /// </summary>
    public abstract void Apply(HostModel host);

    /// <summary>
    /// Does it: each change through <see cref="ActionContext.DoAsync"/> with its undo (journalled before the command
    /// runs), each removal through <see cref="ActionContext.ReleaseAsync"/>. In a plan (dry run) the same code
    /// produces the commands without running them.
    /// </summary>
    public abstract Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct);

    /// <summary>Texts that may hold ${NAME.pid}: checked against when each container runs.</summary>
    public virtual IEnumerable<string?> Templated => [];

    /// <summary>The netns or container this action creates (named in other steps' 'in:'), or null.</summary>
    public virtual Place? Declares => null;

    /// <summary>Tools the action runs besides iproute2 and util-linux (the environment check names their packages).</summary>
    public virtual IEnumerable<Tool> Tools => [];

    /// <summary>Whether the action needs the container runtime (its daemon and image are prepared before the lab starts).</summary>
    public virtual bool UsesContainerRuntime => false;

    /// <summary>
    /// With --host (the caller's own namespace), what of this action's names already exists there: the lab would
    /// change or delete something it did not make, so it refuses to start.
    /// </summary>
    public virtual Task<IReadOnlyList<string>> HostClashesAsync(IHostProbe host, CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([]);
}

/// <summary>A program a kind runs, and the Debian package that has it.</summary>
public sealed record Tool(string Name, string Package);
