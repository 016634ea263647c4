using System.Collections.Immutable;
using LabRunner.Model;

namespace LabRunner.Authoring;

/// <summary>
/// An action as a builder call wrote it: names are still strings, resolved to places (host, netns, container)
/// only when the whole lab is built, so a step may name a container that a later step of the same lab starts,
/// exactly as in YAML.
/// </summary>
internal sealed record ActionDraft(string Keyword, SourceSpan Span, Func<BuildContext, ActionDraft, LabAction?> Make)
{
    /// <summary>Where the action happens ('in' in YAML); null for the host.</summary>
    public string? In { get; init; }

    public SourceSpan? InSpan { get; init; }

    /// <summary>False for actions that have no place (netns-add, container-run...): In() is then an error.</summary>
    public bool TakesPlace { get; init; } = true;

    public string? FailsWith { get; init; }

    public SourceSpan? FailsWithSpan { get; init; }

    /// <summary>The netns or container name this action creates, known before anything is resolved.</summary>
    public (PlaceKind Kind, string Name)? Declares { get; init; }
}

/// <summary>An expectation as a builder call wrote it; see <see cref="ActionDraft"/>.</summary>
internal sealed record ExpectationDraft(string Keyword, SourceSpan Span, Func<BuildContext, ExpectationDraft, Expectation?> Make)
{
    public string? In { get; init; }

    public SourceSpan? InSpan { get; init; }

    public bool TakesPlace { get; init; } = true;

    public TimeSpan? Within { get; init; }

    public SourceSpan? WithinSpan { get; init; }

    /// <summary>Ping only: whether the ping must succeed.</summary>
    public bool Succeeds { get; init; } = true;

    /// <summary>Ping only: echo requests to send; by default 1 when it must succeed, 2 when it must fail (as in YAML).</summary>
    public int? Count { get; init; }

    public SourceSpan? CountSpan { get; init; }
}

/// <summary>One step being written: what <see cref="StepBuilder"/> and its clauses carry from call to call.</summary>
internal sealed record StepState(
    string Title,
    string? Text,
    SourceSpan Span,
    ImmutableList<ActionDraft> Actions,
    ImmutableList<ExpectationDraft> Expectations)
{
    public StepState WithLastAction(Func<ActionDraft, ActionDraft> change) =>
        this with { Actions = Actions.SetItem(Actions.Count - 1, change(Actions[^1])) };

    public StepState WithLastExpectation(Func<ExpectationDraft, ExpectationDraft> change) =>
        this with { Expectations = Expectations.SetItem(Expectations.Count - 1, change(Expectations[^1])) };
}
