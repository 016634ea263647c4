using System.Collections.Immutable;
using LabRunner.Model;

namespace LabRunner.Kinds;

/// <summary>
/// What the generic code (loader, C# builder, JSON Schema, reference) needs to know about a kind before any model
/// record exists: its keyword, its fields, and how to read them into a record. Each kind's file declares one (its
/// record's static <c>Kind</c>); <see cref="KindRegistry"/> lists them all.
/// </summary>
public abstract class Kind
{
    private protected Kind(string keyword, string summary, ImmutableArray<FieldSpec> fields, string? shortForm, int rank)
    {
        Keyword = keyword;
        Summary = summary;
        Fields = fields;
        ShortForm = shortForm;
        Rank = rank;
    }

    /// <summary>Where the kind stands in lists ("known actions: ...", the reference, the JSON Schema); by default after the ranked ones.</summary>
    public int Rank { get; }

    /// <summary>The YAML key ('veth-add'): the kind's name everywhere.</summary>
    public string Keyword { get; }

    /// <summary>One line for the reference and the JSON Schema: what it does, as the real command.</summary>
    public string Summary { get; }

    public ImmutableArray<FieldSpec> Fields { get; }

    /// <summary>The field a bare scalar stands for ('netns-add: n1' is 'netns-add: { name: n1 }'), or null when there is no short form.</summary>
    public string? ShortForm { get; }

    /// <summary>Whether the kind has a place ('in:'); C#'s <c>.In(...)</c> on one that has not is an error.</summary>
    public bool TakesPlace => Fields.Any(f => f.Key == FieldSpec.In.Key);

    public FieldSpec? Field(string key) => Fields.FirstOrDefault(f => f.Key == key);
}

/// <summary>An action kind: reads its fields into its <see cref="LabAction"/> record (null after reporting when they are wrong).</summary>
public sealed class ActionKind(string keyword, string summary, ImmutableArray<FieldSpec> fields, Func<FieldReader, LabAction?> read,
    string? shortForm = null, PlaceKind? declares = null, int rank = int.MaxValue) : Kind(keyword, summary, fields, shortForm, rank)
{
    /// <summary>
    /// The kind of place the action creates, named by its <see cref="Kind.ShortForm"/> field (netns-add: a netns,
    /// container-run: a container), so that every step can name it in 'in:' before the action's own step is read.
    /// </summary>
    public PlaceKind? Declares { get; } = declares;

    internal LabAction? Read(FieldReader fields) => read(fields);
}

/// <summary>An expectation kind: reads its fields into its <see cref="Expectation"/> record.</summary>
public sealed class ExpectationKind(string keyword, string summary, ImmutableArray<FieldSpec> fields, Func<FieldReader, Expectation?> read,
    int rank = int.MaxValue) : Kind(keyword, summary, fields, null, rank)
{
    internal Expectation? Read(FieldReader fields) => read(fields);
}
