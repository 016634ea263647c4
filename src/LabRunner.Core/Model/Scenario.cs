using System.Collections.Immutable;

namespace LabRunner.Model;

/// <summary>A lab: an ordered list of steps run against one host. Immutable; built by the YAML loader or in code.</summary>
public sealed record Scenario(
    string Name,
    string? Description,
    Uplink Uplink,
    ImmutableArray<Step> Steps,
    SourceSpan Span)
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(Scenario? other) =>
        other is not null && Name == other.Name && Description == other.Description && Uplink == other.Uplink && Sequences.Equal(Steps, other.Steps) &&
        Span == other.Span && Runtime == other.Runtime;

    public override int GetHashCode() => HashCode.Combine(Name, Description, Uplink, Sequences.Hash(Steps), Span, Runtime);

    /// <summary>The container runtime the lab asks for (process, containerd, docker); --runtime overrides it.</summary>
    public string? Runtime { get; init; }

    public IEnumerable<LabAction> AllActions => Steps.SelectMany(s => s.Actions);
}

/// <summary>
/// The host's way out, standing for the article's ens3 with 192.168.64.6/24. In a sandbox the engine
/// creates it; with --host it names an existing interface whose address is read at run time.
/// </summary>
public sealed record Uplink(string Name, string Address)
{
    public static readonly Uplink Default = new("ens3", "192.168.64.6/24");

    public string Ip => Address.Split('/')[0];
}

public sealed record Step(
    string Title,
    string? Text,
    ImmutableArray<LabAction> Actions,
    ImmutableArray<Expectation> Expectations,
    SourceSpan Span)
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(Step? other) =>
        other is not null && Title == other.Title && Text == other.Text && Sequences.Equal(Actions, other.Actions) &&
        Sequences.Equal(Expectations, other.Expectations) && Span == other.Span;

    public override int GetHashCode() => HashCode.Combine(Title, Text, Sequences.Hash(Actions), Sequences.Hash(Expectations), Span);
}
