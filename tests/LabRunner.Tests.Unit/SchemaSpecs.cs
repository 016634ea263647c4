using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using LabRunner.Kinds;
using LabRunner.Tests.Unit.Infrastructure;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The JSON Schema the kinds make (`labrunner schema`), checked by an independent validator (JsonSchema.Net): every lab
/// of the repository is valid against it, as an editor would see the file, and a typo is not.
/// </summary>
public sealed class SchemaSpecs
{
    private static readonly JsonSchema Schema = JsonSchema.FromText(LabSchema.Json());

    public static TheoryData<string> Labs() =>
        [.. new[] { "scenarios", "examples" }
            .SelectMany(dir => Directory.EnumerateFiles(Path.Combine(Repo.Root, dir), "*.yaml", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Select(f => Path.GetRelativePath(Repo.Root, f)).Order()];

    /// <summary>
    /// Editors with yaml-language-server (VS Code's YAML extension, Neovim, Helix…) complete and check a lab that names
    /// the schema on its first line; the path is relative to the lab, so it must lead to docs/labrunner.schema.json.
    /// </summary>
    [Theory]
    [MemberData(nameof(Labs))]
    public void Every_lab_of_the_repository_names_the_schema_for_editors(string lab)
    {
        var first = File.ReadLines(Path.Combine(Repo.Root, lab)).FirstOrDefault() ?? "";
        const string modeline = "# yaml-language-server: $schema=";

        Assert.StartsWith(modeline, first);
        var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.Combine(Repo.Root, lab))!, first[modeline.Length..]));
        Assert.Equal(Path.Combine(Repo.Root, "docs", "labrunner.schema.json"), target);
    }

    [Theory]
    [MemberData(nameof(Labs))]
    public void Every_lab_of_the_repository_is_valid_against_the_schema(string lab)
    {
        var results = Evaluate(File.ReadAllText(Path.Combine(Repo.Root, lab)));

        Assert.True(results.IsValid, Errors(results));
    }

    [Theory]
    [InlineData("- netns-ad: n1", "a misspelt kind")]
    [InlineData("- veth-add: { name: veth-1, peer: veth-2, colour: red }", "an unknown field")]
    [InlineData("- veth-add: { name: veth-1 }", "a missing required field")]
    [InlineData("- link-set: { name: veth-1, mtu: 20 }", "a number out of range")]
    [InlineData("- iptables-policy: { chain: FORWARD, policy: REJECT }", "a word not among the choices")]
    public void A_lab_with_a_mistake_is_not(string action, string mistake)
    {
        var results = Evaluate($"lab: x\nsteps:\n  - title: t\n    actions:\n      {action}\n");

        Assert.False(results.IsValid, mistake);
    }

    private static EvaluationResults Evaluate(string yaml) =>
        Schema.Evaluate(JsonDocument.Parse(ToJson(yaml)!.ToJsonString()).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

    private static string Errors(EvaluationResults results) =>
        string.Join("\n", (results.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    /// <summary>YAML as an editor's YAML language server reads it (the core schema: plain 42 is a number, true a boolean).</summary>
    private static JsonNode? ToJson(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return Node(stream.Documents[0].RootNode);

        static JsonNode? Node(YamlNode node) => node switch
        {
            YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value!, Node(p.Value)))),
            YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(Node)]),
            YamlScalarNode { Style: ScalarStyle.Plain } s when long.TryParse(s.Value, out var n) => JsonValue.Create(n),
            YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } s => JsonValue.Create(s.Value == "true"),
            YamlScalarNode s => JsonValue.Create(s.Value),
            _ => null,
        };
    }
}
