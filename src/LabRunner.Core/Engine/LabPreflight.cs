using System.Collections.Immutable;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;

namespace LabRunner.Engine;

/// <summary>
/// The checks of a lab that need a tool but change nothing (libpcap compiling a capture's filters), run by
/// `validate` and before a run changes anything; each expectation says what it checks (<see cref="Expectation.PreflightAsync"/>).
/// </summary>
public static class LabPreflight
{
    /// <summary>The errors found, and the tools those checks need that are not installed (their checks are skipped).</summary>
    public static async Task<(ImmutableArray<ScenarioError> Errors, IReadOnlyList<Tool> Missing)> CheckAsync(Scenario scenario, ICommandRunner runner, CancellationToken ct)
    {
        var errors = ImmutableArray.CreateBuilder<ScenarioError>();
        var missing = new List<Tool>();
        foreach (var expectation in scenario.Steps.SelectMany(s => s.Expectations))
        {
            var absent = expectation.Tools.Where(t => EnvironmentCheck.FindOnPath(t.Name) is null).ToList();
            if (absent.Count > 0)
            {
                missing.AddRange(absent.Except(missing));
                continue;
            }
            errors.AddRange(await expectation.PreflightAsync(runner, ct));
        }
        return (errors.ToImmutable(), missing);
    }
}
