using System.Runtime.CompilerServices;
using System.Collections.Immutable;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Authoring;
using LabRunner.Kinds;

namespace LabRunner.Model;

/// <summary>
/// A literal command (argv, never through a shell) with its explicit undo (null when it changes nothing).
/// Arguments may use ${container.pid} and ${uplink.ip}.
/// </summary>
public sealed record RunCommand(ImmutableArray<string> Argv, Place In, ImmutableArray<string>? Undo) : LabAction
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(RunCommand? other) => other is not null && base.Equals(other) && In == other.In && Sequences.Equal(Argv, other.Argv) && Sequences.Equal(Undo, other.Undo);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), In, Sequences.Hash(Argv), Sequences.Hash(Undo));

    public static readonly ActionKind Kind = new("command", "a literal command, as argv, with its undo",
        [
            new("argv", FieldType.Argv, "the command, e.g. [ip, link, show]", Required: true),
            new("undo", FieldType.ArgvOrNone, "how to undo it, or 'none' when it changes nothing", Required: true),
            FieldSpec.In,
        ],
        r =>
        {
            var argv = r.Argv("argv", required: true);
            ImmutableArray<string>? undo = null;
            var undoNode = r.Node("undo");
            if (undoNode is null)
                r.Error(r.Span, "'undo' is missing", "say how to undo the command ('undo: [ip, link, del, x]'), or 'undo: none' when it changes nothing");
            else if (undoNode is ScalarValue { Text: "none" }) undo = null;
            else undo = r.Argv("undo", required: true);
            return argv is null ? null : new RunCommand(argv.Value, r.PlaceOf(), undo);
        }, rank: 190);

    public override string Keyword => Kind.Keyword;

    public override IEnumerable<string?> Templated => [.. Argv, .. Undo ?? []];

    public override void Apply(HostModel host)
    {
        host.Namespace(In);
        // Only commands outside containers are journaled: inside one, the runtime's exec cannot be undone by name.
        if (In.Kind == PlaceKind.Container && Undo is not null)
            host.Error($"a command inside container '{In.Name}' cannot have an undo",
                "run it in a namespace instead ('ip netns exec' through the host), or use 'undo: none' for a command that changes nothing");
    }

    public override async Task<CommandOutcome> RunAsync(ActionContext context, CancellationToken ct)
    {
        var session = context.Session;
        var argv = Argv.Select(session.Expand).ToArray();
        if (In.Kind == PlaceKind.Container)
        {
            // Inside a container only its runtime can run the undo; literal commands there must change nothing.
            return await context.Runtime.ExecAsync(session.Container(In.Name), argv, CommandPurpose.Action, ct);
        }
        var target = context.Target(In);
        Kinds.Undo undo = Undo is { } u
            ? new UndoCommand($"undo `{argv.Display()}`", [.. target.Exec([.. u.Select(session.Expand)])], [], null)
            : Kinds.Undo.None("the lab says it changes nothing ('undo: none')");
        return await context.DoAsync(target.Exec(argv), undo, ct);
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ActionSteps
{
    /// <summary>
    /// A literal command, run as argv (never through a shell), with its undo (YAML <c>command</c>). Pass
    /// <c>undo: null</c> when the command changes nothing. Arguments may use ${NAME.pid} and ${uplink.ip}.
    /// </summary>
    public static ActionClause Command(this StepBuilder step, string[] argv, string[]? undo, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        step.Add(RunCommand.Kind, file, line, ("argv", argv), ("undo", undo is null ? "none" : undo));
}
