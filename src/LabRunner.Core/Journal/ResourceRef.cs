using System.Text.Json;
using System.Text.Json.Serialization;

namespace LabRunner.Journal;

/// <summary>What kind of object an undo record removes.</summary>
public enum ResourceKind
{
    /// <summary>A named network namespace (/var/run/netns/NAME).</summary>
    Netns,
    /// <summary>A link, in the namespace <see cref="ResourceRef.Netns"/> names.</summary>
    Link,
    /// <summary>A container, by the id its runtime knows it by.</summary>
    Container,
    /// <summary>A packet capture's tcpdump, by its label (LABRUNNER_CONTAINER=ID/capture-N).</summary>
    Capture,
    /// <summary>A server the lab started (<c>serve</c>), by its label (LABRUNNER_CONTAINER=ID/serve-PLACE-PORT).</summary>
    Server,
}

/// <summary>
/// The object an undo record removes, so that deleting it releases the undo (<see cref="LabJournal.Release"/>) and a
/// reader of the journal (a host snapshot) can tell what the lab made. Compared by value. In the journal it is an object,
/// <c>{"Kind":"link","Name":"veth-1","Netns":"lr-02294f"}</c>; journals of earlier versions hold the display string
/// ("link veth-1 in lr-02294f"), which is still read.
/// </summary>
[JsonConverter(typeof(ResourceRefJsonConverter))]
public sealed record ResourceRef
{
    private ResourceRef(ResourceKind kind, string name, string? netns)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (kind == ResourceKind.Link) ArgumentException.ThrowIfNullOrEmpty(netns);
        else if (netns is not null) throw new ArgumentException($"only a link has a namespace, not a {kind}", nameof(netns));
        Kind = kind;
        Name = name;
        Netns = netns;
    }

    public ResourceKind Kind { get; }

    /// <summary>The namespace's physical name, the link's name, the container's id, or the capture's label.</summary>
    public string Name { get; }

    /// <summary>For a link, where it is: what <c>ip link set X netns ARG</c> takes (a netns name, or a PID); null otherwise.</summary>
    public string? Netns { get; }

    public static ResourceRef ForNetns(string physical) => new(ResourceKind.Netns, physical, null);

    public static ResourceRef ForLink(string name, string netnsArgument) => new(ResourceKind.Link, name, netnsArgument);

    public static ResourceRef ForContainer(string id) => new(ResourceKind.Container, id, null);

    public static ResourceRef ForCapture(string label) => new(ResourceKind.Capture, label, null);

    public static ResourceRef ForServer(string label) => new(ResourceKind.Server, label, null);

    /// <summary>How a person reads it: "netns lr-ab12cd-n1", "link veth-1 in lr-ab12cd", "container ID", "capture LABEL".</summary>
    public string Display => Kind == ResourceKind.Link ? $"link {Name} in {Netns}" : $"{Word(Kind)} {Name}";

    public override string ToString() => Display;

    /// <summary>
    /// The form journals of earlier versions hold (<see cref="Display"/>), read back; null when it is none of them.
    /// Names never hold a space (<see cref="Loading.Names"/>), so the words are the fields.
    /// </summary>
    public static ResourceRef? FromDisplay(string text) =>
        text.Split(' ') switch
        {
            ["link", { Length: > 0 } name, "in", { Length: > 0 } netns] => ForLink(name, netns),
            [var word, { Length: > 0 } name] when KindOf(word) is { } kind && kind != ResourceKind.Link => new ResourceRef(kind, name, null),
            _ => null,
        };

    /// <summary>The kind as the journal writes it: the display's first word.</summary>
    internal static string Word(ResourceKind kind) => kind.ToString().ToLowerInvariant();

    internal static ResourceKind? KindOf(string word)
    {
        foreach (var kind in Enum.GetValues<ResourceKind>())
            if (string.Equals(Word(kind), word, StringComparison.OrdinalIgnoreCase)) return kind;
        return null;
    }

    internal static ResourceRef Create(ResourceKind kind, string name, string? netns) => new(kind, name, netns);
}

/// <summary>
/// Writes a <see cref="ResourceRef"/> as <c>{"Kind":"link","Name":"veth-1","Netns":"lr-02294f"}</c> (Netns only for a
/// link). Reads that, or a string in the display form an earlier version wrote (a string it cannot read is no resource:
/// the record is kept, only not tied to an object). An object that is not a resource is a JsonException, so the journal
/// line is reported and skipped like any other garbled record.
/// </summary>
internal sealed class ResourceRefJsonConverter : JsonConverter<ResourceRef>
{
    public override ResourceRef? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return ResourceRef.FromDisplay(reader.GetString()!);
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException($"a resource is an object or a string, not {reader.TokenType}");
        string? kind = null, name = null, netns = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.TokenType != JsonTokenType.PropertyName) throw new JsonException("a resource's fields are expected");
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                case "Kind": kind = Text(ref reader, property); break;
                case "Name": name = Text(ref reader, property); break;
                case "Netns": netns = Text(ref reader, property); break;
                default: reader.Skip(); break; // a field a later version added
            }
        }
        if (kind is null || ResourceRef.KindOf(kind) is not { } k) throw new JsonException($"a resource of no known kind ('{kind}')");
        if (string.IsNullOrEmpty(name)) throw new JsonException($"a {kind} resource without a name");
        if (k == ResourceKind.Link ? string.IsNullOrEmpty(netns) : netns is not null)
            throw new JsonException(k == ResourceKind.Link ? $"link resource {name} without its namespace" : $"a {kind} resource with a namespace");
        return ResourceRef.Create(k, name, netns);
    }

    private static string? Text(ref Utf8JsonReader reader, string property) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Null => null,
        _ => throw new JsonException($"a resource's {property} is a string"),
    };

    public override void Write(Utf8JsonWriter writer, ResourceRef value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("Kind", ResourceRef.Word(value.Kind));
        writer.WriteString("Name", value.Name);
        if (value.Netns is not null) writer.WriteString("Netns", value.Netns);
        writer.WriteEndObject();
    }
}
