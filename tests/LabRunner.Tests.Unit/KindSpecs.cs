using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json.Nodes;
using LabRunner.Authoring;
using LabRunner.Kinds;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The kinds as the generic code sees them (docs/ARCHITECTURE.md §11): found by the registry, one file each, fields
/// declared once and read only as declared, the JSON Schema made from them, and the one host model's checks.
/// </summary>
public sealed class KindSpecs
{
    [Fact]
    public void The_registry_finds_every_kind_in_its_rank_order_with_unranked_kinds_last()
    {
        Assert.Equal(
            ["netns-add", "netns-delete", "veth-add", "bridge-add", "vxlan-add", "macvlan-add", "vlan-add", "ipvlan-add", "link-up", "link-down", "link-move", "link-delete",
             "bridge-attach", "bridge-detach", "address-add", "route-add", "sysctl", "netem", "iptables-policy", "iptables-rule", "masquerade", "publish", "container-run", "container-stop", "serve",
             "netns-symlink", "cni-add", "command", "link-set"],
            KindRegistry.ActionKeywords);
        Assert.Equal(
            ["ping", "connect", "http", "neighbor", "link", "links", "address", "route", "sysctl", "iptables-policy", "conntrack", "bridge-ports", "fdb", "netns", "command", "capture", "cni-check", "counter"],
            KindRegistry.ExpectationKeywords);
    }

    [Fact]
    public void Every_kind_record_declares_its_kind_in_its_own_file()
    {
        var records = typeof(LabAction).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && (t.IsSubclassOf(typeof(LabAction)) || t.IsSubclassOf(typeof(Expectation))));
        foreach (var record in records)
        {
            var kinds = record.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => typeof(Kind).IsAssignableFrom(f.FieldType)).ToList();
            Assert.True(kinds.Count > 0, $"{record.Name} declares no kind: add 'public static readonly ActionKind Kind = new(...)'");
            var folder = record.IsSubclassOf(typeof(LabAction)) ? "Actions" : "Expectations";
            Assert.True(File.Exists(Path.Combine(Repo.Root, "src", "LabRunner.Core", "Kinds", folder, record.Name + ".cs")), $"{record.Name} is not in Kinds/{folder}/{record.Name}.cs");
        }
    }

    [Fact]
    public void Every_field_a_kind_reads_is_declared_and_every_declared_field_is_read()
    {
        // Every scenario in the repository, read with the declared fields enforced (reading an undeclared key throws).
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Repo.Root, "scenarios"), "*.yaml", SearchOption.AllDirectories))
            ScenarioLoader.LoadFile(file);

        // A declared field that the kind never reads would be refused as unknown: give every one, see none refused as unknown.
        foreach (var kind in KindRegistry.Actions.Cast<Kind>().Concat(KindRegistry.Expectations))
        {
            var errors = Unknowns(kind);
            Assert.True(errors.Count == 0, $"{kind.Keyword} declares fields it does not read: {string.Join("; ", errors)}");
        }
    }

    /// <summary>The "unknown key" errors when a kind is given every field it declares (values need not be valid).</summary>
    private static List<string> Unknowns(Kind kind)
    {
        var fields = string.Join(", ", kind.Fields.Select(f => $"{f.Key}: {Sample(f)}"));
        var entry = kind is ActionKind ? $"actions: [ {{ {kind.Keyword}: {{ {fields} }} }} ]" : $"expect: [ {{ {kind.Keyword}: {{ {fields} }} }} ]";
        try
        {
            ScenarioLoader.Load($"lab: x\nsteps:\n  - title: t\n    {entry}\n", "lab.yaml");
            return [];
        }
        catch (ScenarioInvalidException e)
        {
            return [.. e.Errors.Where(x => x.Message.StartsWith("unknown key", StringComparison.Ordinal)).Select(x => x.Message)];
        }
    }

    private static string Sample(FieldSpec f) => f.Type switch
    {
        FieldType.Map => "{ " + string.Join(", ", f.Fields.Select(s => $"{s.Key}: {Sample(s)}")) + " }",
        FieldType.MapList => "[ { " + string.Join(", ", f.Fields.Select(s => $"{s.Key}: {Sample(s)}")) + " } ]",
        FieldType.Interfaces or FieldType.Strings or FieldType.Filters or FieldType.Argv or FieldType.ArgvOrNone => "[x]",
        FieldType.Integer => "1",
        FieldType.Boolean => "true",
        _ => "x",
    };

    [Fact]
    public void A_CSharp_shim_that_names_a_field_its_kind_does_not_declare_fails_at_once()
    {
        var e = Assert.Throws<ArgumentException>(() => EntryDraft.Of(NetnsAdd.Kind, SourceSpan.None, ("colour", "red")));

        Assert.StartsWith("netns-add has no field 'colour'", e.Message);
    }

    [Fact]
    public void A_capture_on_a_link_of_a_stopped_container_is_refused_before_anything_runs()
    {
        var error = Scenarios.ErrorIn("""
            lab: capture-after-stop
            steps:
              - title: a container, stopped
                actions: [ { container-run: c1 }, { container-stop: c1 } ]
              - title: a capture in it
                expect:
                  - capture:
                      while: { ping: { from: host, to: 10.0.0.1 } }
                      on: [ { link: eth0, in: c1, sees: [icmp] } ]
            """);

        error.At(9, 17);
        Assert.Equal("container c1 has been stopped at this point", error.Message);
    }

    [Fact]
    public void The_JSON_schema_has_every_kind_with_its_declared_fields()
    {
        var schema = LabSchema.Build();
        var step = schema["properties"]!["steps"]!["items"]!["properties"]!;
        var actions = step["actions"]!["items"]!["oneOf"]!.AsArray();
        var expectations = step["expect"]!["items"]!["oneOf"]!.AsArray();

        Assert.Equal(KindRegistry.ActionKeywords.Length, actions.Count);
        Assert.Equal(KindRegistry.ExpectationKeywords.Length, expectations.Count);
        var linkSet = actions.Single(a => a!["required"]![0]!.GetValue<string>() == "link-set")!["properties"]!["link-set"]!;
        Assert.Equal(["name", "mtu", "address", "txqueuelen", "alias", "in"], linkSet["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal(68, linkSet["properties"]!["mtu"]!["minimum"]!.GetValue<int>());
        var addressAdd = actions.Single(a => a!["required"]![0]!.GetValue<string>() == "address-add")!["properties"]!["address-add"]!;
        Assert.Equal(["dev", "address", "dad", "in"], addressAdd["properties"]!.AsObject().Select(p => p.Key));
        Assert.Matches(addressAdd["properties"]!["address"]!["pattern"]!.GetValue<string>(), "fd00:100::1/64"); // IPv6 too
        Assert.Matches(addressAdd["properties"]!["address"]!["pattern"]!.GetValue<string>(), "172.16.100.1/24");
        var netnsAdd = actions.Single(a => a!["required"]![0]!.GetValue<string>() == "netns-add")!["properties"]!["netns-add"]!;
        Assert.NotNull(netnsAdd["anyOf"]); // the short form 'netns-add: n1' or the mapping
    }

    [Fact]
    public void The_schema_in_the_docs_is_the_one_the_kinds_make()
    {
        var path = Path.Combine(Repo.Root, "docs", "labrunner.schema.json");
        Assert.True(File.Exists(path) && File.ReadAllText(path) == LabSchema.Json(),
            $"docs/labrunner.schema.json is stale: regenerate it with `labrunner schema > docs/labrunner.schema.json`");
    }

    [Fact]
    public void A_lab_loaded_twice_is_equal_to_itself_lists_and_all()
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Repo.Root, "scenarios"), "*.yaml", SearchOption.AllDirectories))
        {
            var (a, b) = (ScenarioLoader.LoadFile(file), ScenarioLoader.LoadFile(file));
            Assert.Equal(a, b);
            Assert.Equal(a.GetHashCode(), b.GetHashCode());
        }
        var capture = new CaptureExpectation(new CaptureTraffic(Place.Host, "10.0.0.1", 2), [new CapturePoint("br-0", Place.Host, ["icmp"], [])]);
        Assert.Equal(capture, capture with { On = [new CapturePoint("br-0", Place.Host, ["icmp"], [])] });
        Assert.NotEqual(capture, capture with { On = [new CapturePoint("br-0", Place.Host, ["arp"], [])] });
        var command = new RunCommand(["ip", "link"], Place.Host, null);
        Assert.NotEqual(command, command with { Undo = ["ip", "link"] });
        Assert.NotEqual(command, command with { ExpectedError = "x" });
    }

    /// <summary>
    /// A record that writes its own Equals (to compare its lists by value) must still compare every property: changing
    /// any one of them, on a copy, makes the copy unequal. Guards the next field someone adds.
    /// </summary>
    [Fact]
    public void A_hand_written_Equals_compares_every_property()
    {
        var scenario = ScenarioLoader.Load("""
            lab: every-list
            steps:
              - title: t
                actions:
                  - container-run: c1
                  - command: { argv: [ip, link], undo: [ip, link, del, x] }
                  - iptables-rule: { chain: FORWARD, rule: [-j, ACCEPT] }
                expect:
                  - links: { exactly: [lo] }
                  - bridge-ports: { bridge: br-0, ports: [] }
                  - command: { argv: [ip, link] }
                  - link: { name: lo, flags: [UP] }
                  - capture: { while: { ping: { from: c1, to: 10.0.0.1 } }, on: [ { link: eth0, in: c1, sees: [icmp] } ] }
            """, "lab.yaml");
        var step = scenario.Steps[0];
        object[] samples = [scenario, step, .. step.Actions, .. step.Expectations, ((CaptureExpectation)step.Expectations[^1]).On[0]];
        var checkedTypes = 0;
        foreach (var sample in samples)
        {
            var type = sample.GetType();
            if (type.GetMethod("Equals", BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly, [type]) is null) continue;
            checkedTypes++;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.Name != "EqualityContract"))
            {
                var copy = type.GetMethod("<Clone>$")!.Invoke(sample, null)!;
                Assert.Equal(sample, copy);
                property.SetValue(copy, Other(property.PropertyType, property.GetValue(sample)));
                Assert.False(sample.Equals(copy), $"{type.Name}.Equals ignores {property.Name}");
            }
        }
        Assert.True(checkedTypes >= 8, $"only {checkedTypes} records with their own Equals were sampled");
    }

    /// <summary>A value of the type that differs from <paramref name="value"/>.</summary>
    private static object? Other(Type type, object? value) => type switch
    {
        _ when type == typeof(string) => (string?)value + "x",
        _ when type == typeof(int) || type == typeof(int?) => ((int?)value ?? 0) + 1,
        _ when type == typeof(bool) => !(bool)value!,
        _ when type == typeof(TimeSpan) => (TimeSpan)value! + TimeSpan.FromSeconds(1),
        _ when type == typeof(Place) => value as Place == Place.Netns("zz") ? Place.Netns("yy") : Place.Netns("zz"),
        _ when type == typeof(SourceSpan) => new SourceSpan("other.yaml", 99, 9),
        _ when type == typeof(Uplink) => new Uplink("eth9", "10.9.9.9/24"),
        _ when type == typeof(CaptureTraffic) => ((CaptureTraffic)value!) with { To = "10.9.9.9" },
        _ when type == typeof(ImmutableArray<string>) => ((ImmutableArray<string>)value!).Add("zz"),
        _ when type == typeof(ImmutableDictionary<string, string>) => ((ImmutableDictionary<string, string>)value!).SetItem("zz", "eth9"),
        _ when type == typeof(ImmutableArray<string>?) => (value as ImmutableArray<string>? ?? []).Add("zz"),
        _ when type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableArray<>) =>
            type.GetMethod("RemoveAt")!.Invoke(value, [0]), // one fewer element
        _ => throw new InvalidOperationException($"no other value for a {type.Name}: teach Other() about it"),
    };
}
