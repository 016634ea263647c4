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

    /// <summary>
    /// The far side of a sandbox's uplink (<c>lr-ID_wan</c>, with <c>wan0</c> up and no address): the network the
    /// article's ens3 leads to, where a lab puts the "outside" a container reaches through NAT. A netns the lab does not
    /// make; it exists only in a sandbox (a run with --host refuses a lab that names it).
    /// </summary>
    public static readonly Place Wan = new(PlaceKind.Netns, WanName);

    /// <summary>The name a lab writes for <see cref="Wan"/>; reserved, like "host".</summary>
    public const string WanName = "wan";

    /// <summary>The link of <see cref="Wan"/> at the far end of the uplink.</summary>
    public const string WanLink = "wan0";

    public static Place Netns(string name) => new(PlaceKind.Netns, name);

    public static Place Container(string name) => new(PlaceKind.Container, name);

    public override string ToString() => Kind switch
    {
        PlaceKind.Host => "host",
        PlaceKind.Netns => $"netns {Name}",
        _ => $"container {Name}",
    };
}
