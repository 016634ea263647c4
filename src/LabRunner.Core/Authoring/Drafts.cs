using System.Collections.Immutable;
using LabRunner.Kinds;
using LabRunner.Model;

namespace LabRunner.Authoring;

/// <summary>
/// An action or expectation as a builder call wrote it: its kind and its fields as values (the same
/// <see cref="FieldValue"/>s a YAML file gives), every one placed at the call. Names are still strings, resolved to
/// places only when the whole lab is built, so a step may name a container that a later step starts, as in YAML;
/// the kind then reads the fields with the same rules and messages as the YAML loader.
/// </summary>
internal sealed record EntryDraft(Kind Kind, SourceSpan Span, MapValue Fields)
{
    /// <summary>Where it happens ('in' in YAML); null for the host.</summary>
    public string? In { get; init; }

    public SourceSpan? InSpan { get; init; }

    public string? FailsWith { get; init; }

    public SourceSpan? FailsWithSpan { get; init; }

    public TimeSpan? Within { get; init; }

    public SourceSpan? WithinSpan { get; init; }

    /// <summary>The draft with one more field (a clause such as <c>.Count(3)</c> sets one after the call).</summary>
    public EntryDraft With(string key, SourceSpan span, object? value) => this with { Fields = Fields.With(key, span, FieldValue.From(value, span)) };

    /// <summary>A draft of <paramref name="kind"/> from C# named arguments; a key the kind does not declare is a bug in the shim.</summary>
    public static EntryDraft Of(Kind kind, SourceSpan span, params (string Key, object? Value)[] fields)
    {
        foreach (var (key, _) in fields)
            if (kind.Field(key) is null) throw new ArgumentException($"{kind.Keyword} has no field '{key}'", nameof(fields));
        return new EntryDraft(kind, span, FieldValue.Map(span, fields));
    }
}

/// <summary>One step being written: what <see cref="StepBuilder"/> and its clauses carry from call to call.</summary>
internal sealed record StepState(
    string Title,
    string? Text,
    SourceSpan Span,
    ImmutableList<EntryDraft> Actions,
    ImmutableList<EntryDraft> Expectations)
{
    public StepState WithLastAction(Func<EntryDraft, EntryDraft> change) =>
        this with { Actions = Actions.SetItem(Actions.Count - 1, change(Actions[^1])) };

    public StepState WithLastExpectation(Func<EntryDraft, EntryDraft> change) =>
        this with { Expectations = Expectations.SetItem(Expectations.Count - 1, change(Expectations[^1])) };
}
