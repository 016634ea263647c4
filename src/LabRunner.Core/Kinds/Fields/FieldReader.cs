using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using LabRunner.Loading;
using LabRunner.Model;

namespace LabRunner.Kinds;

/// <summary>The netns and container names a lab creates anywhere in it, so 'in: X' and ${X.pid} can be resolved.</summary>
public sealed record LabNames(IReadOnlySet<string> Netns, IReadOnlySet<string> Containers)
{
    public static LabNames Of(IEnumerable<Place> declared)
    {
        var list = declared.ToList();
        return new(list.Where(p => p.Kind == PlaceKind.Netns).Select(p => p.Name).ToHashSet(StringComparer.Ordinal),
            list.Where(p => p.Kind == PlaceKind.Container).Select(p => p.Name).ToHashSet(StringComparer.Ordinal));
    }
}

/// <summary>Collects a lab's errors, each with its position.</summary>
public sealed class ErrorList
{
    private readonly List<ScenarioError> _errors = [];

    public IReadOnlyList<ScenarioError> Errors => _errors;

    public int Count => _errors.Count;

    public void Add(SourceSpan span, string message, string? hint = null) => _errors.Add(new(span, message, hint));
}

/// <summary>
/// Reads one mapping of a lab (an action's fields, a step, the lab itself) key by key, with the one set of rules and
/// messages LabRunner has for names, addresses, numbers and lists, whether the lab was written in YAML or in C#.
/// Wrong values are reported with their position; <see cref="RejectUnknownKeys"/> then reports every key nobody asked
/// for, with the nearest known key as a hint.
/// </summary>
public sealed partial class FieldReader
{
    private readonly MapValue _map;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private readonly ImmutableArray<FieldSpec>? _declared;

    /// <param name="declared">The fields a kind declares: reading any other key is a bug in the kind (it throws), so
    /// the declaration the JSON Schema and the C# API are made from is always what the loader reads.</param>
    public FieldReader(MapValue map, ErrorList errors, LabNames names, ImmutableArray<FieldSpec>? declared = null)
    {
        _map = map;
        Errors = errors;
        Names = names;
        _declared = declared;
    }

    public ErrorList Errors { get; }

    public LabNames Names { get; }

    public SourceSpan Span => _map.Span;

    public IEnumerable<string> Keys => _map.Entries.Select(e => e.Key);

    /// <summary>A value that must be a mapping, as a reader; null (after reporting) when it is not.</summary>
    public static FieldReader? Of(FieldValue value, string what, ErrorList errors, LabNames names, ImmutableArray<FieldSpec>? declared = null)
    {
        if (value is MapValue map) return new FieldReader(map, errors, names, declared);
        errors.Add(value.Span, $"{what} must be a mapping of 'key: value' lines");
        return null;
    }

    /// <summary>The short form 'netns-add: n1' read as if it were 'netns-add: { name: n1 }'.</summary>
    public static FieldReader ShortForm(string key, ScalarValue value, ErrorList errors, LabNames names, ImmutableArray<FieldSpec>? declared = null) =>
        new(new MapValue([new MapEntry(key, value.Span, value)], value.Span), errors, names, declared);

    public void Error(SourceSpan span, string message, string? hint = null) => Errors.Add(span, message, hint);

    /// <summary>Whether the key is present; asking makes it a known key (for "did you mean" on typos).</summary>
    public bool Has(string key)
    {
        Known(key);
        return Find(key) is not null;
    }

    public FieldValue? Node(string key)
    {
        Known(key);
        return Find(key)?.Value;
    }

    private void Known(string key)
    {
        if (_declared is { } declared && !declared.Any(f => f.Key == key))
            throw new InvalidOperationException($"a kind reads '{key}', which it does not declare; add it to its Fields");
        _known.Add(key);
    }

    public SourceSpan SpanOf(string key) => Find(key)?.Value.Span ?? Span;

    /// <summary>A nested mapping ('mac-of: { link: ..., in: ... }'), or null when absent or not a mapping.</summary>
    public FieldReader? Map(string key, string what) => Node(key) is { } node ? Of(node, what, Errors, Names, NestedFields(key)) : null;

    /// <summary>Each mapping of a list of mappings ('on: [ { link: br-0, ... } ]'), as a reader; null when absent or not a list.</summary>
    public IReadOnlyList<FieldReader?>? MapList(string key, string what, string itemWhat)
    {
        if (Node(key) is not { } node) return null;
        if (node is not ListValue list) return null;
        return [.. list.Items.Select(item => Of(item, itemWhat, Errors, Names, NestedFields(key)))];
    }

    private ImmutableArray<FieldSpec>? NestedFields(string key) =>
        _declared is { } declared ? declared.First(f => f.Key == key).Fields : null;

    // ---------- plain values ----------

    public string? String(string key, bool required = false, string? missingHint = null)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required) Error(Span, $"'{key}' is missing", missingHint ?? $"add '{key}: ...' here");
            return null;
        }
        return Scalar(node, key);
    }

    private string? Scalar(FieldValue node, string what)
    {
        switch (node)
        {
            case ScalarValue s: return s.Text;
            case NullValue: Error(node.Span, $"'{what}' holds a null value"); return null;
            default: Error(node.Span, $"'{what}' must be a single value, not a {(node is ListValue ? "list" : "mapping")}"); return null;
        }
    }

    public bool? Bool(string key)
    {
        var text = String(key);
        switch (text)
        {
            case null: return null;
            case "true" or "yes": return true;
            case "false" or "no": return false;
            default:
                Error(SpanOf(key), $"'{key}' must be true or false, not '{text}'");
                return null;
        }
    }

    public int? Int(string key, int min, int max, bool required = false, string? missingHint = null)
    {
        var text = String(key, required, missingHint);
        if (text is null) return null;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        Error(SpanOf(key), $"'{key}' must be a whole number from {min} to {max}, not '{text}'");
        return null;
    }

    public TimeSpan? Duration(string key)
    {
        var text = String(key);
        if (text is null) return null;
        if (Durations.TryParse(text, out var value)) return value;
        Error(SpanOf(key), $"'{key}' must be a duration such as 500ms, 5s or 1m, not '{text}'");
        return null;
    }

    public ImmutableArray<string>? StringList(string key, bool required = false, string? missingHint = null)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required) Error(Span, $"'{key}' is missing", missingHint ?? $"add '{key}: [...]' here");
            return null;
        }
        if (node is not ListValue list)
        {
            Error(node.Span, $"'{key}' must be a list, e.g. [a, b]");
            return null;
        }
        var items = ImmutableArray.CreateBuilder<string>();
        foreach (var item in list.Items)
            if (Scalar(item, key) is { } value) items.Add(value);
        return items.ToImmutable();
    }

    /// <summary>One of a fixed set of words (an iptables table, a link state).</summary>
    public string? Choice(string key, IReadOnlyList<string> allowed, string message, string? hint, bool required = false, string? fallback = null)
    {
        var text = String(key, required) ?? fallback;
        if (text is not null && !allowed.Contains(text)) Error(SpanOf(key), string.Format(CultureInfo.InvariantCulture, message, text), hint);
        return text;
    }

    /// <summary>
    /// A free-form mapping kept as JSON (<see cref="FieldType.Json"/>): YAML's plain scalars read as JSON's true, false,
    /// null and numbers, quoted ones as strings; a string field is read as JSON text (C# labs pass one). Null when
    /// absent, or after reporting when it is neither.
    /// </summary>
    public System.Text.Json.Nodes.JsonObject? Json(string key)
    {
        var node = Node(key);
        switch (node)
        {
            case null: return null;
            case MapValue map: return (System.Text.Json.Nodes.JsonObject)ToJson(map)!;
            case ScalarValue s:
                try
                {
                    if (System.Text.Json.Nodes.JsonNode.Parse(s.Text) is System.Text.Json.Nodes.JsonObject o) return o;
                }
                catch (System.Text.Json.JsonException e)
                {
                    Error(s.Span, $"'{key}' is not valid JSON: {e.Message}", "write it as a YAML mapping, or as a JSON object in a string");
                    return null;
                }
                Error(s.Span, $"'{key}' must be a mapping (or a JSON object), not '{s.Text}'");
                return null;
            default:
                Error(node.Span, $"'{key}' must be a mapping, not a list");
                return null;
        }
    }

    private static System.Text.Json.Nodes.JsonNode? ToJson(FieldValue value) => value switch
    {
        MapValue map => new System.Text.Json.Nodes.JsonObject(map.Entries.GroupBy(e => e.Key).Select(g => KeyValuePair.Create(g.Key, ToJson(g.Last().Value)))),
        ListValue list => new System.Text.Json.Nodes.JsonArray([.. list.Items.Select(ToJson)]),
        ScalarValue { Quoted: true } s => System.Text.Json.Nodes.JsonValue.Create(s.Text),
        ScalarValue { Text: "true" or "True" or "TRUE" } => System.Text.Json.Nodes.JsonValue.Create(true),
        ScalarValue { Text: "false" or "False" or "FALSE" } => System.Text.Json.Nodes.JsonValue.Create(false),
        ScalarValue { Text: "" or "~" or "null" or "Null" or "NULL" } => null,
        ScalarValue s when long.TryParse(s.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => System.Text.Json.Nodes.JsonValue.Create(n),
        ScalarValue s when JsonNumber().IsMatch(s.Text) => System.Text.Json.Nodes.JsonValue.Create(double.Parse(s.Text, CultureInfo.InvariantCulture)),
        ScalarValue s => System.Text.Json.Nodes.JsonValue.Create(s.Text),
        _ => null,
    };

    [GeneratedRegex(@"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$")]
    private static partial Regex JsonNumber();

    // ---------- names and addresses ----------

    public string? Interface(string key, bool required = false)
    {
        var name = String(key, required);
        if (name is not null && Loading.Names.CheckInterface(name) is { } why) Error(SpanOf(key), why);
        return name;
    }

    public ImmutableArray<string>? Interfaces(string key, bool required, string? missingHint = null)
    {
        var names = StringList(key, required, missingHint);
        foreach (var name in names ?? [])
            if (Loading.Names.CheckInterface(name) is { } why) Error(SpanOf(key), why);
        return names;
    }

    /// <summary>A netns or container name a lab creates.</summary>
    public string? Object(string key, string what)
    {
        var name = String(key, required: true);
        if (name is not null && Loading.Names.CheckObject(name, what) is { } why) Error(SpanOf(key), why);
        return name;
    }

    public string? Cidr(string key, bool required = false)
    {
        var text = String(key, required);
        if (text is not null && Loading.Names.CheckCidr(text) is { } why) Error(SpanOf(key), why, "write it as address/prefix, e.g. 172.16.100.1/24");
        return text;
    }

    public string? Ip(string key, bool required = false)
    {
        var text = String(key, required);
        if (text is not null && !Loading.Names.IsIPv4(text)) Error(SpanOf(key), $"'{text}' is not an IPv4 address", "e.g. 172.16.100.101");
        return text;
    }

    /// <summary>
    /// An address of either family (<see cref="FieldType.IpAddress"/>): one with a ':' is IPv6, returned in the form ip
    /// prints it (fd00:100:0::1 is fd00:100::1); any other is IPv4, with <see cref="Ip"/>'s rule and message.
    /// </summary>
    public string? IpAddress(string key, bool required = false)
    {
        var text = String(key, required);
        if (text is null || !Loading.Names.IsV6(text)) return text is null ? null : Ip4(text, key);
        if (Loading.Names.CheckIPv6(text) is { } why) Error(SpanOf(key), why, "e.g. fd00:100::101");
        return Loading.Names.Canonical(text);
    }

    private string Ip4(string text, string key)
    {
        if (!Loading.Names.IsIPv4(text)) Error(SpanOf(key), $"'{text}' is not an IPv4 address", "e.g. 172.16.100.101");
        return text;
    }

    /// <summary>
    /// A CIDR of either family (<see cref="FieldType.IpCidr"/>): an IPv4 one with <see cref="Cidr"/>'s rule and message,
    /// an IPv6 one (it has a ':') such as fd00:100::1/64, returned in the form ip prints it.
    /// </summary>
    public string? IpCidr(string key, bool required = false)
    {
        var text = String(key, required);
        if (text is null) return null;
        if (!Loading.Names.IsV6(text))
        {
            if (Loading.Names.CheckCidr(text) is { } why4) Error(SpanOf(key), why4, "write it as address/prefix, e.g. 172.16.100.1/24");
            return text;
        }
        if (Loading.Names.CheckIpCidr(text) is { } why) Error(SpanOf(key), why, "write it as address/prefix, e.g. fd00:100::1/64");
        return Loading.Names.Canonical(text);
    }

    /// <summary>
    /// An address to ping: an IPv4 address or ${uplink.ip}; with <paramref name="ipv6"/> also an IPv6 address (returned
    /// in the form ip prints it).
    /// </summary>
    public string? Target(string key, bool ipv6 = false)
    {
        var text = String(key, required: true);
        if (text is null) return null;
        if (text.Contains("${")) CheckTemplate(text, SpanOf(key));
        else if (ipv6 && Loading.Names.IsV6(text))
        {
            if (Loading.Names.CheckIPv6(text) is { } why) Error(SpanOf(key), why, "e.g. fd00:100::101");
            return Loading.Names.Canonical(text);
        }
        else if (!Loading.Names.IsIPv4(text)) Error(SpanOf(key), $"'{text}' is not an IPv4 address", "e.g. 172.16.100.1, or ${uplink.ip} for the host's uplink");
        return text;
    }

    /// <summary>
    /// 'default' or a CIDR; with <paramref name="ipv6"/> also an IPv6 network (fd00:200::/64, ::/0 for IPv6's default),
    /// returned in the form ip prints it, and refused with host bits set.
    /// </summary>
    public string? RouteDestination(string key, bool required, bool ipv6 = false)
    {
        var to = String(key, required);
        if (to is null || to == "default") return to;
        if (ipv6 && Loading.Names.IsV6(to))
        {
            if ((Loading.Names.CheckIpCidr(to) ?? Loading.Names.CheckIPv6Network(to)) is { } why)
                Error(SpanOf(key), why, "use 'default' or a network such as fd00:200::/64 (::/0 is IPv6's default)");
            return Loading.Names.Canonical(to);
        }
        if (Loading.Names.CheckCidr(to) is { } why4) Error(SpanOf(key), why4, "use 'default' or a CIDR such as 10.0.0.0/24");
        return to;
    }

    public string? SysctlKey(string key, bool required)
    {
        var text = String(key, required);
        if (text is not null && Loading.Names.CheckSysctlKey(text) is { } why) Error(SpanOf(key), why);
        return text;
    }

    public string? Chain(string key, bool required)
    {
        var chain = String(key, required);
        if (chain is not null && Loading.Names.CheckChain(chain) is { } why) Error(SpanOf(key), why);
        return chain;
    }

    public string? Mac(string key)
    {
        var mac = String(key);
        if (mac is not null && !MacPattern().IsMatch(mac))
            Error(SpanOf(key), $"'{mac}' is not a MAC address like 3e:79:d5:dd:06:f6", "or use 'mac-of: { link: veth-2, in: busybox-1 }'");
        return mac;
    }

    /// <summary>A command as argv, never through a shell: no NUL or newline, placeholders known.</summary>
    public ImmutableArray<string>? Argv(string key, bool required)
    {
        var argv = StringList(key);
        if (argv is null)
        {
            if (required && !Has(key)) Error(Span, $"'{key}' is missing", "give the command as a list: [ip, link, show]");
            return null;
        }
        if (argv.Value.Length == 0) Error(SpanOf(key), $"'{key}' is empty");
        foreach (var arg in argv.Value)
        {
            if (arg.Any(c => c == '\0' || c == '\n')) Error(SpanOf(key), "an argument may not contain NUL or newline");
            CheckTemplate(arg, SpanOf(key));
        }
        return argv;
    }

    /// <summary>Text that may hold ${NAME.pid} or ${uplink.ip}: every placeholder must name something the lab has.</summary>
    public string? Text(string key, bool required = false)
    {
        var text = String(key, required);
        if (text is not null) CheckTemplate(text, SpanOf(key));
        return text;
    }

    public void CheckTemplate(string text, SourceSpan span)
    {
        if (Templates.Check(text, Names.Containers, Names.Netns) is { } why) Error(span, why);
    }

    // ---------- places ----------

    /// <summary>Where something happens: "host" (the default), or a netns or container some action of the lab creates.</summary>
    public Place PlaceOf(string key = "in")
    {
        var name = String(key);
        if (name is null || name == "host") return Place.Host;
        if (name == Place.WanName) return Place.Wan;
        if (Names.Netns.Contains(name)) return Place.Netns(name);
        if (Names.Containers.Contains(name)) return Place.Container(name);
        UnknownName(SpanOf(key), name, "netns or container", Names.Netns.Concat(Names.Containers));
        return Place.Host;
    }

    /// <summary>A place that is optional: null when the key is absent.</summary>
    public Place? OptionalPlace(string key) => Has(key) ? PlaceOf(key) : null;

    public string? Container(string key)
    {
        var name = String(key, required: true);
        if (name is not null && !Names.Containers.Contains(name)) UnknownName(SpanOf(key), name, "container", Names.Containers);
        return name;
    }

    public void UnknownName(SourceSpan span, string name, string what, IEnumerable<string> known)
    {
        var all = known.ToList();
        var near = Suggest.Nearest(name, all);
        Error(span, $"unknown {what} '{name}': no action of this lab creates it",
            near is not null ? $"did you mean '{near}'?" : all.Count == 0 ? "create it first (netns-add or container-run)" : $"known: host, wan, {string.Join(", ", all.Order())}");
    }

    /// <summary>Reports every key that was never read: a typo must not be silently ignored.</summary>
    public void RejectUnknownKeys(string where)
    {
        foreach (var entry in _map.Entries)
        {
            if (_known.Contains(entry.Key)) continue;
            var nearest = Suggest.Nearest(entry.Key, _known);
            Error(entry.KeySpan, $"unknown key '{entry.Key}' in {where}",
                nearest is null ? $"allowed here: {string.Join(", ", _known.Order())}" : $"did you mean '{nearest}'?");
        }
    }

    private MapEntry? Find(string key)
    {
        foreach (var entry in _map.Entries)
            if (entry.Key == key) return entry;
        return null;
    }

    [GeneratedRegex("^([0-9a-f]{2}:){5}[0-9a-f]{2}$")]
    private static partial Regex MacPattern();
}
