using System.Text.Json;
using System.Text.Json.Nodes;
using LabRunner.Loading;

namespace LabRunner.Kinds;

/// <summary>
/// The JSON Schema (draft 2020-12) of a YAML lab file, made from the kinds' declared fields (<see cref="KindRegistry"/>),
/// so editors complete and check lab files with exactly what the loader reads. `labrunner schema` prints it;
/// docs/labrunner.schema.json is a copy a test keeps current.
/// </summary>
public static class LabSchema
{
    public const string Id = "https://labrunner.dev/schema/lab.schema.json";

    public static string Json() =>
        Build().ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";

    public static JsonObject Build() => new()
    {
        ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
        ["$id"] = Id,
        ["title"] = "LabRunner lab",
        ["description"] = "A container-networking lab: steps of actions, then expectations (docs/SCENARIO-LANGUAGE.md).",
        ["type"] = "object",
        ["required"] = Array("lab", "steps"),
        ["additionalProperties"] = false,
        ["properties"] = new JsonObject
        {
            ["lab"] = Text("the lab's name"),
            ["description"] = Text("what the lab shows"),
            ["runtime"] = new JsonObject { ["enum"] = Array([.. Runtimes.ContainerRuntimes.Names]), ["description"] = "the container runtime (default process)" },
            ["hosts"] = new JsonObject
            {
                ["type"] = "array", ["minItems"] = 1, ["uniqueItems"] = true, ["items"] = Of(FieldType.Name, "a host"),
                ["description"] = "a lab across hosts: their names; every entry says 'on: HOST' (docs/MULTI-HOST.md)",
            },
            ["uplink"] = new JsonObject
            {
                ["type"] = "object",
                ["additionalProperties"] = false,
                ["description"] = "the host's way out (default ens3 192.168.64.6/24)",
                ["properties"] = new JsonObject { ["name"] = Of(FieldType.Interface, "the interface"), ["address"] = Of(FieldType.Cidr, "its address") },
            },
            ["steps"] = new JsonObject
            {
                ["type"] = "array",
                ["minItems"] = 1,
                ["items"] = new JsonObject
                {
                    ["type"] = "object",
                    ["required"] = Array("title"),
                    ["additionalProperties"] = false,
                    ["properties"] = new JsonObject
                    {
                        ["title"] = Text("the step's title, e.g. 3.2 busybox-1 and its veth pair"),
                        ["text"] = Text("the narrative shown before its commands"),
                        ["on"] = OnHost,
                        ["actions"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["oneOf"] = Array([.. KindRegistry.Actions.Select(Action)]) } },
                        ["expect"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["oneOf"] = Array([.. KindRegistry.Expectations.Select(Expectation)]) } },
                    },
                },
            },
        },
    };

    private static JsonObject Action(ActionKind kind) => Entry(kind, Fields(kind.Fields, kind.ShortForm), CommonFields.FailsWith);

    private static JsonObject Expectation(ExpectationKind kind) => Entry(kind, Fields([.. kind.Fields, CommonFields.Within], null), CommonFields.Within);

    /// <summary>A list item: the kind's keyword (and only one) plus the common key ('fails-with' or 'within').</summary>
    private static JsonObject Entry(Kind kind, JsonNode fields, FieldSpec common) => new()
    {
        ["type"] = "object",
        ["description"] = kind.Summary,
        ["required"] = Array(kind.Keyword),
        ["additionalProperties"] = false,
        ["properties"] = new JsonObject { [kind.Keyword] = fields, [common.Key] = Of(common), ["on"] = OnHost },
    };

    /// <summary>'on: HOST' of an entry or a step, in a lab with 'hosts'.</summary>
    private static JsonObject OnHost => Text("in a lab with 'hosts': the host this runs on", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*$");

    /// <summary>An address field may also be an inventory's host address, written in before the lab is loaded.</summary>
    private const string HostAddress = @"\$\{hosts\.[A-Za-z0-9_-]+\.address\}";

    /// <summary>An interface field may also be an inventory's host uplink (a lab across hosts' underlay), written in the same way.</summary>
    private const string HostUplink = @"\$\{hosts\.[A-Za-z0-9_-]+\.uplink\}";

    /// <summary>A kind's mapping of fields; with a short form, a bare value standing for that field is allowed too.</summary>
    private static JsonNode Fields(IEnumerable<FieldSpec> fields, string? shortForm)
    {
        var list = fields.ToList();
        var map = Map(list);
        return shortForm is null ? map : new JsonObject { ["anyOf"] = Array(Of(list.First(f => f.Key == shortForm)), map) };
    }

    private static JsonObject Map(IReadOnlyCollection<FieldSpec> fields) => new()
    {
        ["type"] = "object",
        ["additionalProperties"] = false,
        ["required"] = Array([.. fields.Where(f => f.Required).Select(f => f.Key)]),
        ["properties"] = new JsonObject(fields.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)Of(f)))),
    };

    private static JsonObject Of(FieldSpec field)
    {
        var schema = Of(field.Type, field.Doc);
        if (field.Min is { } min) schema["minimum"] = min;
        if (field.Max is { } max) schema["maximum"] = max;
        if (field.Type is FieldType.Choices)
            schema["anyOf"] = Array(new JsonObject { ["type"] = "string", ["enum"] = Array([.. field.Choices]) },
                new JsonObject { ["type"] = "array", ["minItems"] = 1, ["items"] = new JsonObject { ["type"] = "string", ["enum"] = Array([.. field.Choices]) } });
        else if (!field.Choices.IsDefaultOrEmpty) schema["enum"] = Array([.. field.Choices]);
        if (field.Type is FieldType.Map) schema.Merge(Map(field.Fields));
        if (field.Type is FieldType.MapList) schema["items"] = Map(field.Fields);
        return schema;
    }

    private static JsonObject Of(FieldType type, string doc)
    {
        var schema = type switch
        {
            FieldType.Interface => new JsonObject
            {
                ["anyOf"] = Array(Text(pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*$", maxLength: Names.MaxInterfaceBytes), Text(pattern: "^" + HostUplink + "$")),
            },
            FieldType.Name => Text(pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*$", maxLength: Names.MaxObjectName),
            FieldType.Cidr => Text(pattern: @"^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$"),
            FieldType.Ipv4 => Text(pattern: @"^([0-9]{1,3}(\.[0-9]{1,3}){3}|" + HostAddress + ")$"),
            FieldType.PingTarget => Text(pattern: @"^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*|.*\$\{[A-Za-z0-9_.-]+\}.*)$"),
            FieldType.Ipv4Target => Text(pattern: @"^([0-9]{1,3}(\.[0-9]{1,3}){3}|.*\$\{[A-Za-z0-9_.-]+\}.*)$"),
            FieldType.RouteDestination => Text(pattern: @"^(default|[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*/[0-9]{1,3})$"),
            FieldType.IpAddress => Text(pattern: @"^([0-9]{1,3}(\.[0-9]{1,3}){3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*|" + HostAddress + ")$"),
            FieldType.IpCidr => Text(pattern: @"^([0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*/[0-9]{1,3})$"),
            FieldType.SysctlKey => Text(pattern: @"^[a-z0-9_][a-z0-9_-]*(\.[a-z0-9_-]+)+$"),
            FieldType.Chain => Text(pattern: "^[A-Za-z][A-Za-z0-9_-]{0,28}$"),
            FieldType.Mac => Text(pattern: "^([0-9a-f]{2}:){5}[0-9a-f]{2}$"),
            FieldType.Duration => Text(pattern: @"^[0-9]+(\.[0-9]+)?(ms|s|m)$"),
            FieldType.Integer => new JsonObject { ["type"] = "integer" },
            FieldType.Boolean => new JsonObject { ["type"] = "boolean" },
            FieldType.Interfaces or FieldType.Strings or FieldType.Filters => new JsonObject { ["type"] = "array", ["items"] = Text() },
            FieldType.Argv => new JsonObject { ["type"] = "array", ["minItems"] = 1, ["items"] = Text() },
            FieldType.ArgvOrNone => new JsonObject { ["anyOf"] = Array(new JsonObject { ["const"] = "none" }, new JsonObject { ["type"] = "array", ["minItems"] = 1, ["items"] = Text() }) },
            FieldType.Map => new JsonObject(),
            FieldType.MapList => new JsonObject { ["type"] = "array", ["minItems"] = 1 },
            FieldType.Json => new JsonObject { ["type"] = Array("object", "string") },
            FieldType.Choices => new JsonObject(),
            _ => Text(), // Text, Place, Container, Choice: words the loader checks against the lab itself
        };
        schema["description"] = doc;
        return schema;
    }

    private static JsonObject Text(string? doc = null, string? pattern = null, int? maxLength = null)
    {
        var schema = new JsonObject { ["type"] = "string" };
        if (pattern is not null) schema["pattern"] = pattern;
        if (maxLength is not null) schema["maxLength"] = maxLength;
        if (doc is not null) schema["description"] = doc;
        return schema;
    }

    private static JsonArray Array(params JsonNode?[] items) => new(items);

    private static JsonArray Array(params string[] items) => new([.. items.Select(i => (JsonNode?)JsonValue.Create(i))]);

    private static void Merge(this JsonObject into, JsonObject from)
    {
        foreach (var (key, value) in from.ToList())
        {
            from.Remove(key);
            into[key] = value;
        }
    }
}
