using LabRunner.Loading;
using LabRunner.Model;

namespace LabRunner.Tests.Unit.Infrastructure;

/// <summary>Loads scenario text written inline in a test, as the file "lab.yaml".</summary>
public static class Scenarios
{
    public const string File = "lab.yaml";

    public static Scenario Load(string yaml) => ScenarioLoader.Load(yaml, File);

    /// <summary>The errors of a scenario that must not load.</summary>
    public static IReadOnlyList<ScenarioError> ErrorsIn(string yaml) =>
        Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.Load(yaml, File)).Errors;

    /// <summary>The one error of a scenario with exactly one problem.</summary>
    public static ScenarioError ErrorIn(string yaml)
    {
        var errors = ErrorsIn(yaml);
        Assert.True(errors.Count == 1, $"expected one error, got {errors.Count}:\n{string.Join("\n", errors)}");
        return errors[0];
    }

    /// <summary>The errors of a scenario file that must not load.</summary>
    public static IReadOnlyList<ScenarioError> ErrorsInFile(string path) =>
        Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.LoadFile(path)).Errors;

    /// <summary>Asserts where an error points: file:line:col, 1-based.</summary>
    public static void At(this ScenarioError error, int line, int column, string file = File) =>
        Assert.Equal($"{file}:{line}:{column}", error.Span.ToString());
}
