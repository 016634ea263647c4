using System.Reflection;
using Xunit;
using Xunit.Sdk;
using Xunit.v3;

namespace LabRunner.Xunit;

/// <summary>
/// Theory data: one row per step of a fixture's scenario, its index, each shown as its own test named
/// "LAB 03/24: 1.2 A namespace and a veth pair(index: 2)". The fixture type must have a parameterless constructor;
/// only its scenario is read here (nothing runs at discovery).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ScenarioStepsAttribute(Type fixtureType) : DataAttribute
{
    public Type FixtureType { get; } = fixtureType;

    public override ValueTask<IReadOnlyCollection<ITheoryDataRow>> GetData(MethodInfo testMethod, DisposalTracker disposalTracker)
    {
        if (!typeof(LabFixture).IsAssignableFrom(FixtureType))
            throw new ArgumentException($"{FixtureType.Name} is not a LabFixture; derive it from ScenarioFileFixture or LabFixture");
        var fixture = (LabFixture)(Activator.CreateInstance(FixtureType)
            ?? throw new ArgumentException($"{FixtureType.Name} needs a parameterless constructor"));
        var scenario = fixture.Scenario;
        var count = scenario.Steps.Length;
        var width = count.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        var rows = scenario.Steps
            .Select((step, i) => (ITheoryDataRow)new TheoryDataRow<int>(i)
            {
                TestDisplayName = $"{scenario.Name} {(i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(width, '0')}/{count}: {step.Title}",
            })
            .ToList();
        return new(rows);
    }

    public override bool SupportsDiscoveryEnumeration() => true;
}

/// <summary>
/// Runs test cases in source order, and the rows of a <see cref="ScenarioStepsAttribute"/> theory in step order, so
/// that the report reads like the lab. (Step results do not depend on it: a step's test runs the steps before it.)
/// Use with <c>[TestCaseOrderer(typeof(StepOrderer))]</c> on the class.
/// </summary>
public sealed class StepOrderer : ITestCaseOrderer
{
    public IReadOnlyCollection<TTestCase> OrderTestCases<TTestCase>(IReadOnlyCollection<TTestCase> testCases)
        where TTestCase : notnull, ITestCase =>
        [.. testCases
            .OrderBy(t => t.SourceLineNumber ?? int.MaxValue)
            .ThenBy(t => t is XunitTestCase x && x.TestMethodArguments is [int index, ..] ? index : int.MaxValue)
            .ThenBy(t => t.TestCaseDisplayName, StringComparer.Ordinal)];
}
