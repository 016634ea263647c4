using System.Runtime.CompilerServices;
using LabRunner.Kinds;
using LabRunner.Model;

namespace LabRunner.Authoring;

/// <summary>
/// One step of a C# lab: its actions, then (through <see cref="Expect"/>) what must hold after them. Immutable:
/// every call returns a new builder and leaves this one as it was, so write the calls as one chain
/// (<c>s => s.Netns("n1").Veth("veth-1", "veth-2").Expect.Netns("n1")</c>) or keep the returned value.
/// The action methods live with their kinds (extensions in <see cref="ActionSteps"/>, e.g. <c>.Veth(...)</c> in
/// Kinds/Actions/VethAdd.cs): each mirrors the YAML action of the same meaning (docs/CSHARP-LABS.md lists the pairs)
/// and is a typed shim that hands its arguments, as the kind's YAML fields, to the kind's own reader, so a step
/// produces the same model record with the same rules and messages whichever way it was written. Every call
/// remembers its file and line, so errors point at the line of the lab that wrote the action.
/// </summary>
public class StepBuilder
{
    internal StepBuilder(StepState state) => State = state;

    internal StepState State { get; }

    public string Title => State.Title;

    /// <summary>What must hold after this step's actions: <c>.Expect.Ping(from: "busybox-2", to: "172.16.100.101").Fails()</c>.</summary>
    public ExpectationPicker Expect => new(State);

    internal static SourceSpan At(string file, int line) => new(string.IsNullOrEmpty(file) ? "<code>" : file, line, line > 0 ? 1 : 0);

    /// <summary>Adds an action of <paramref name="kind"/> with its fields as named arguments (null: not given).</summary>
    internal ActionClause Add(ActionKind kind, string file, int line, params (string Key, object? Value)[] fields) =>
        new(State with { Actions = State.Actions.Add(EntryDraft.Of(kind, At(file, line), fields)) });
}

/// <summary>The step after an action: more of the step, or a modifier of that action (<see cref="In"/>, <see cref="FailsWith"/>).</summary>
public sealed class ActionClause : StepBuilder
{
    internal ActionClause(StepState state) : base(state)
    {
    }

    /// <summary>Where the action happens: "host" (the default), a netns or a container of the lab (YAML <c>in:</c>).</summary>
    public ActionClause In(string place, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastAction(a => a with { In = place, InSpan = At(file, line) }));

    /// <summary>
    /// The action must fail, and its error output must contain <paramref name="error"/> (YAML <c>fails-with:</c>),
    /// e.g. the article's <c>RTNETLINK answers: File exists</c>.
    /// </summary>
    public ActionClause FailsWith(string error, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastAction(a => a with { FailsWith = error, FailsWithSpan = At(file, line) }));
}
