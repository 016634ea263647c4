using System.Collections.Immutable;
using LabRunner.Kinds;
using LabRunner.Model;

namespace LabRunner.Loading;

/// <summary>
/// Checks a scenario's flow before anything runs, by playing it on the <see cref="HostModel"/>: each action and
/// expectation applies itself (a name must exist before it is used, cannot be created twice, a lab may change only
/// what it created). Works on the model, so labs written in YAML and in C# get the same checks.
/// </summary>
public static class ScenarioValidator
{
    public static ImmutableArray<ScenarioError> Validate(Scenario scenario) => [.. HostModel.Play(scenario).Findings];
}
