using System.Runtime.CompilerServices;
using System.Collections.Immutable;
using LabRunner.Authoring;
using LabRunner.Kinds;
using static LabRunner.Execution.IpJson;

namespace LabRunner.Model;

/// <summary>The exact set of links in a namespace (the article's "the container has only lo").</summary>
public sealed record LinksExpectation(Place In, ImmutableArray<string> Exactly) : Expectation
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(LinksExpectation? other) => other is not null && base.Equals(other) && In == other.In && Sequences.Equal(Exactly, other.Exactly);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), In, Sequences.Hash(Exactly));

    public static readonly ExpectationKind Kind = new("links", "ip link show: exactly these links",
        [FieldSpec.In, new("exactly", FieldType.Interfaces, "every link of the namespace, e.g. [lo]", Required: true)],
        r =>
        {
            var place = r.PlaceOf();
            var exactly = r.Interfaces("exactly", required: true, "list the links, e.g. 'exactly: [lo]'");
            return exactly is null ? null : new LinksExpectation(place, exactly.Value);
        }, rank: 40);

    public override string Keyword => Kind.Keyword;

    public override string Describe() => $"{In} has exactly the links [{string.Join(", ", Exactly)}]";

    public override void Check(HostModel host) => host.Namespace(In);

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var outcome = await context.CheckAsync(context.Target(In).Ip("-j", "link", "show"), ct);
        if (!outcome.Succeeded) return (false, outcome.Error);
        var names = ObserveContext.Json(outcome.Stdout).EnumerateArray().Select(l => Str(l, "ifname") ?? "").Order().ToList();
        return (names.SequenceEqual(Exactly.Order()), $"[{string.Join(", ", names)}]");
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>The exact set of links in a namespace (the article's "the container has only lo"), YAML <c>links</c>.</summary>
    public static ExpectClause Links(this ExpectationPicker expect, string[] exactly, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(LinksExpectation.Kind, file, line, ("exactly", exactly));
}
