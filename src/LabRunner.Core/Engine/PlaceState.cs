using LabRunner.Model;

namespace LabRunner.Engine;

/// <summary>One look at a place: what was read (links, addresses…), the command that read it, and what it printed (or its error).</summary>
public sealed record PlaceReading(string What, string Command, bool Ok, string Text);

/// <summary>A place of a live lab as <see cref="LiveLab.ReadStateAsync"/> found it.</summary>
public sealed record PlaceState(string Place, PlaceKind Kind, IReadOnlyList<PlaceReading> Readings)
{
    /// <summary>What is read in each place, with iproute2's arguments: short forms a person reads at a glance.</summary>
    public static readonly IReadOnlyList<(string What, string[] Args)> Commands =
    [
        ("links", ["-br", "link", "show"]),
        ("addresses", ["-br", "addr", "show"]),
        ("routes", ["route", "show"]),
        ("neighbours", ["neigh", "show"]),
    ];
}
