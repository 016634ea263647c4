using System.Collections.Immutable;
using LabRunner.Kinds;
using LabRunner.Loading;

namespace LabRunner.Model;

/// <summary>
/// What must hold after a step's actions. Each kind is a record in a file of its own (src/LabRunner.Core/Kinds/
/// Expectations): its keyword and fields (static <c>Kind</c>), what must exist in the <see cref="HostModel"/> for it
/// to be checked (<see cref="Check"/>), and how it is observed on the live host (<see cref="ObserveAsync"/>).
/// Observed again and again until it holds or <see cref="Within"/> runs out, so real timing (ARP, carrier) never
/// makes a lab flaky.
/// </summary>
public abstract record Expectation
{
    public static readonly TimeSpan DefaultWithin = TimeSpan.FromSeconds(5);

    public SourceSpan Span { get; init; } = SourceSpan.None;

    public TimeSpan Within { get; init; } = DefaultWithin;

    /// <summary>In a lab with <see cref="Scenario.Hosts"/>: the host it is observed on (<c>on:</c>); null in a one-host lab.</summary>
    public string? OnHost { get; init; }

    public abstract string Keyword { get; }

    /// <summary>One line for reports: what is expected, in the scenario's own names.</summary>
    public abstract string Describe();

    /// <summary>Checks against the model that everything the expectation looks at exists at its point in the lab.</summary>
    public abstract void Check(HostModel host);

    /// <summary>One observation of the live host: whether it holds now, and what was seen (for the report).</summary>
    public abstract Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct);

    /// <summary>
    /// Called when the step that holds it begins, before the step's actions run: an expectation about what happens
    /// during the step (a rule's counter that grows) reads its starting point here and keeps it in
    /// <see cref="ObserveContext.StepStart"/>. Not called in a plan.
    /// </summary>
    public virtual Task BeginStepAsync(ObserveContext context, CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// Whether this may be observed at the same time as the adjacent expectations of its step that also may (the
    /// star lab's N pings): it only reads, or sends traffic that no other observation of the step compares with.
    /// Order still holds between groups: a neighbour check after pings waits for them.
    /// </summary>
    public virtual bool ObservedAlongside => false;

    /// <summary>
    /// The diagnosis classes (<see cref="Engine.Diagnosis.DiagnosisClasses"/>) that must explain the failure this
    /// expectation expects (a lab's <c>why:</c>); empty: none asked for. When given, the diagnosis runs although the
    /// expectation held, and it holds only if each class was found.
    /// </summary>
    public ImmutableArray<string> Why { get; init; } = [];

    // Written out to compare Why by value (Sequences): two loads of one lab are equal.
    public virtual bool Equals(Expectation? other) =>
        other is not null && EqualityContract == other.EqualityContract && Span == other.Span && Within == other.Within && OnHost == other.OnHost && Sequences.Equal(Why, other.Why);

    public override int GetHashCode() => HashCode.Combine(EqualityContract, Span, Within, OnHost, Sequences.Hash(Why));

    /// <summary>
    /// For a failure people ask "why?" about: what was found along the way, one finding a line, each with the id of the
    /// class it belongs to. <paramref name="held"/>: whether the observation held (a kind diagnoses only the failure it
    /// can explain: a ping with no answer, a connection that did not connect, whether expected or not).
    /// </summary>
    public virtual Task<IReadOnlyList<Engine.Diagnosis.Finding>> DiagnoseAsync(ObserveContext context, bool held, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<Engine.Diagnosis.Finding>>([]);

    /// <summary>Texts that may hold ${NAME.pid}: checked against when each container runs.</summary>
    public virtual IEnumerable<string?> Templated => [];

    public virtual IEnumerable<Tool> Tools => [];

    /// <summary>Checks that need a tool but change nothing (libpcap compiling filters), run before the lab starts.</summary>
    public virtual Task<ImmutableArray<ScenarioError>> PreflightAsync(Execution.ICommandRunner runner, CancellationToken ct) => Task.FromResult(ImmutableArray<ScenarioError>.Empty);
}
