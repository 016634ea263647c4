using System.Collections.Immutable;

namespace LabRunner.Kinds;

/// <summary>What a field holds: decides the rule the reader applies and what the JSON Schema says about it.</summary>
public enum FieldType
{
    /// <summary>Free text; may hold ${NAME.pid} and ${uplink.ip}.</summary>
    Text,
    /// <summary>A Linux interface name (at most 15 bytes).</summary>
    Interface,
    /// <summary>A list of interface names.</summary>
    Interfaces,
    /// <summary>A list of words.</summary>
    Strings,
    /// <summary>A netns or container name the lab creates.</summary>
    Name,
    /// <summary>"host", or a netns or container of the lab.</summary>
    Place,
    /// <summary>A container of the lab.</summary>
    Container,
    /// <summary>An IPv4 address with prefix, e.g. 172.16.100.1/24.</summary>
    Cidr,
    /// <summary>An IPv4 address.</summary>
    Ipv4,
    /// <summary>An IPv4 or IPv6 address or ${uplink.ip}: what a ping is sent to.</summary>
    PingTarget,
    /// <summary>"default", an IPv4 CIDR, or an IPv6 network (::/0 is IPv6's default).</summary>
    RouteDestination,
    /// <summary>An IPv4 or IPv6 address, e.g. 172.16.100.1 or fd00:100::1.</summary>
    IpAddress,
    /// <summary>An IPv4 or IPv6 address with prefix, e.g. 172.16.100.1/24 or fd00:100::1/64.</summary>
    IpCidr,
    /// <summary>An IPv4 address or ${uplink.ip}.</summary>
    Ipv4Target,
    SysctlKey,
    /// <summary>An iptables chain name.</summary>
    Chain,
    Integer,
    Boolean,
    /// <summary>500ms, 5s, 1m.</summary>
    Duration,
    /// <summary>One of <see cref="FieldSpec.Choices"/>.</summary>
    Choice,
    /// <summary>One of <see cref="FieldSpec.Choices"/>, or a list of them (a <c>why:</c>'s diagnosis classes).</summary>
    Choices,
    /// <summary>A MAC address, lower case.</summary>
    Mac,
    /// <summary>A command as a list of arguments.</summary>
    Argv,
    /// <summary>A command as a list of arguments, or the word "none".</summary>
    ArgvOrNone,
    /// <summary>A list of pcap filter expressions.</summary>
    Filters,
    /// <summary>A mapping of <see cref="FieldSpec.Fields"/>.</summary>
    Map,
    /// <summary>A list of mappings of <see cref="FieldSpec.Fields"/>.</summary>
    MapList,
    /// <summary>Any mapping, kept as JSON (a CNI network), or a string holding a JSON object.</summary>
    Json,
}

/// <summary>
/// One field of a kind, declared once: the YAML loader and the C# builder read it under <see cref="Key"/>, the JSON
/// Schema and the reference describe it. A kind reads only fields it declares (the reader enforces it).
/// </summary>
public sealed record FieldSpec(string Key, FieldType Type, string Doc, bool Required = false)
{
    /// <summary>Where the kind happens: the lab's host unless a netns or container is named.</summary>
    public static readonly FieldSpec In = new("in", FieldType.Place, "where: host (the default), or a netns or container of the lab");

    public ImmutableArray<string> Choices { get; init; } = [];

    public int? Min { get; init; }

    public int? Max { get; init; }

    /// <summary>The fields of a <see cref="FieldType.Map"/> or of each item of a <see cref="FieldType.MapList"/>.</summary>
    public ImmutableArray<FieldSpec> Fields { get; init; } = [];
}
