namespace LabRunner.Model;

public enum PlaceKind
{
    /// <summary>The lab's host: a sandbox namespace by default, the caller's namespace with --host.</summary>
    Host,
    /// <summary>A named network namespace the lab created (ip netns add).</summary>
    Netns,
    /// <summary>A container's network namespace, reached through its PID.</summary>
    Container,
}

/// <summary>A network namespace as the scenario names it: "host", a netns or a container.</summary>
public sealed record Place(PlaceKind Kind, string Name)
{
    public static readonly Place Host = new(PlaceKind.Host, "host");

    public static Place Netns(string name) => new(PlaceKind.Netns, name);

    public static Place Container(string name) => new(PlaceKind.Container, name);

    public override string ToString() => Kind switch
    {
        PlaceKind.Host => "host",
        PlaceKind.Netns => $"netns {Name}",
        _ => $"container {Name}",
    };
}
