using LabRunner.Loading;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// tests/LabRunner.Tests.Unit/Invalid/*.yaml: a corpus of invalid scenarios (hostile names, injections, bad addresses,
/// references, flow errors, YAML traps). Each file's first line says what must be reported first:
/// <c># expect: LINE:COL: message</c>.
/// </summary>
public sealed class InvalidScenarioCorpusSpecs
{
    private static string Corpus => Path.Combine(Repo.Root, "tests", "LabRunner.Tests.Unit", "Invalid");

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Corpus, "*.yaml").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(path));
        return data;
    }

    [Fact]
    public void The_corpus_has_a_case_for_each_kind_of_hostile_input()
    {
        var names = Directory.GetFiles(Corpus, "*.yaml").Select(Path.GetFileName).ToList();
        Assert.True(names.Count >= 40, $"only {names.Count} invalid scenarios");
        foreach (var kind in new[] { "name-shell-semicolon", "name-command-substitution", "name-path-traversal", "name-too-long", "yaml-alias", "deep-nesting" })
            Assert.Contains(kind + ".yaml", names);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Each_invalid_scenario_is_rejected_with_its_expected_message_and_position(string name)
    {
        var path = Path.Combine(Corpus, name);
        var header = File.ReadLines(path).First();
        Assert.StartsWith("# expect: ", header);
        var expected = header["# expect: ".Length..];

        var errors = Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.LoadFile(path)).Errors;

        var first = errors[0];
        Assert.Equal(expected, $"{first.Span.Line}:{first.Span.Column}: {first.Message}");
        Assert.All(errors, e => Assert.True(e.Span.Line > 0, $"no position: {e}"));
    }
}
