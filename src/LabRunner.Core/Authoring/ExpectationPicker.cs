using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using LabRunner.Kinds;
using LabRunner.Model;
using static LabRunner.Authoring.StepBuilder;

namespace LabRunner.Authoring;

/// <summary>
/// The expectations a step can add, reached through <see cref="StepBuilder.Expect"/>: each kind's file adds its
/// method here (an extension in <see cref="Model.ExpectationSteps"/>, e.g. <c>.Expect.Ping(...)</c> in
/// Kinds/Expectations/PingExpectation.cs), mirroring the YAML expectation of the same name and returning the step
/// with the expectation added.
/// </summary>
public sealed class ExpectationPicker
{
    private readonly StepState _state;

    internal ExpectationPicker(StepState state) => _state = state;

    internal StepState With(ExpectationKind kind, string file, int line, params (string Key, object? Value)[] fields) =>
        _state with { Expectations = _state.Expectations.Add(EntryDraft.Of(kind, At(file, line), fields)) };

    /// <summary>Adds an expectation of <paramref name="kind"/> with its fields as named arguments (null: not given).</summary>
    internal ExpectClause Add(ExpectationKind kind, string file, int line, params (string Key, object? Value)[] fields) => new(With(kind, file, line, fields));

    /// <summary>'mac-of: { link, in }' from macOf/macOfIn; null when neither is given.</summary>
    internal static MapValue? MacOf(string? macOf, string? macOfIn, string file, int line) =>
        macOf is null && macOfIn is null ? null : FieldValue.Map(At(file, line), ("link", macOf), ("in", macOfIn));
}

/// <summary>
/// One link of a capture (<c>.Expect.Capture(...)</c>): where (<paramref name="In"/>: a netns or container, default
/// the host) and the pcap filters its packets must (<paramref name="Sees"/>) and must not (<paramref name="Never"/>) match.
/// </summary>
public sealed record CaptureOn(string Link, string? In = null, string[]? Sees = null, string[]? Never = null);

/// <summary>The step after an expectation: more of the step, or a modifier of that expectation.</summary>
public sealed class ExpectClause : StepBuilder
{
    internal ExpectClause(StepState state) : base(state)
    {
    }

    /// <summary>Where to look: "host" (the default), a netns or a container of the lab (YAML <c>in:</c>).</summary>
    public ExpectClause In(string place, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e with { In = place, InSpan = At(file, line) }));

    /// <summary>How long the expectation may take to hold (default 5 s); it is checked again and again until then.</summary>
    public ExpectClause Within(TimeSpan within, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e with { Within = within, WithinSpan = At(file, line) }));
}

/// <summary>The step after a ping expectation: more of the step, or a modifier of that ping.</summary>
public sealed class PingClause : StepBuilder
{
    internal PingClause(StepState state) : base(state)
    {
    }

    /// <summary>The ping must get no answer (the article's "100% packet loss"); 2 echo requests unless <see cref="Count"/> says otherwise.</summary>
    public PingClause Fails([CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e.With("succeeds", At(file, line), false)));

    /// <summary>The ping must get an answer (the default).</summary>
    public PingClause Succeeds([CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e.With("succeeds", At(file, line), true)));

    /// <summary>Echo requests to send, 1 to 20.</summary>
    public PingClause Count(int count, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e.With("count", At(file, line), count)));

    /// <summary>Data bytes in each echo request (ping -s), 0 to 65507.</summary>
    public PingClause Size(int size, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e.With("size", At(file, line), size)));

    /// <summary>The average round trip must be shorter than <paramref name="below"/>.</summary>
    public PingClause RttBelow(TimeSpan below, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e.With("rtt-below", At(file, line), below)));

    /// <summary>Send with DF set (iputils ping -M do): a link on the path with a smaller MTU drops it.</summary>
    public PingClause DontFragment([CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e.With("dont-fragment", At(file, line), true)));

    /// <summary>The diagnosis class that must explain this expected failure (YAML <c>why</c>), e.g. "no-return-route".</summary>
    public PingClause Why(string diagnosisClass, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e.With("why", At(file, line), diagnosisClass)));

    /// <summary>The diagnosis classes that must each explain this expected failure (YAML <c>why: [a, b]</c>).</summary>
    public PingClause Why(IEnumerable<string> diagnosisClasses, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e.With("why", At(file, line), diagnosisClasses.ToList())));

    /// <summary>How long the ping may take to give the expected result (default 5 s).</summary>
    public PingClause Within(TimeSpan within, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastExpectation(e => e with { Within = within, WithinSpan = At(file, line) }));
}
