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
    SourceSpan Span);
