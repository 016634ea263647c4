using System.Collections.Immutable;
using System.Reflection;
using LabRunner.Model;

namespace LabRunner.Kinds;

/// <summary>
/// Every kind LabRunner knows: each record deriving from <see cref="LabAction"/> or <see cref="Expectation"/> declares
/// its kind(s) in a static field of its own file, found here, so adding a kind is writing its file and nothing else.
/// Listed in <see cref="Kind.Rank"/> order (the reference's order; a new kind without one comes last, by keyword).
/// The loader, the C# builder, the JSON Schema, the validator, the executor and the reports loop over these.
/// </summary>
public static class KindRegistry
{
    public static readonly ImmutableArray<ActionKind> Actions = Find<ActionKind>(typeof(LabAction));

    public static readonly ImmutableArray<ExpectationKind> Expectations = Find<ExpectationKind>(typeof(Expectation));

    public static ImmutableArray<string> ActionKeywords { get; } = [.. Actions.Select(k => k.Keyword)];

    public static ImmutableArray<string> ExpectationKeywords { get; } = [.. Expectations.Select(k => k.Keyword)];

    public static ActionKind Action(string keyword) => Actions.First(k => k.Keyword == keyword);

    public static ExpectationKind Expectation(string keyword) => Expectations.First(k => k.Keyword == keyword);

    private static ImmutableArray<T> Find<T>(Type root) where T : Kind
    {
        var kinds = typeof(KindRegistry).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(root) && !t.IsAbstract)
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.FieldType == typeof(T)))
            .Select(f => (T)f.GetValue(null)!)
            .OrderBy(k => k.Rank).ThenBy(k => k.Keyword, StringComparer.Ordinal)
            .ToImmutableArray();
        var twice = kinds.GroupBy(k => k.Keyword).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new InvalidOperationException($"two {root.Name} kinds are called '{twice.Key}'");
        return kinds;
    }
}
