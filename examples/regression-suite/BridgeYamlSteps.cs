namespace RegressionSuite;

/// <summary>labs/bridge.yaml, each step its own test result, in order.</summary>
public sealed class BridgeYaml() : ScenarioFileFixture("labs/bridge.yaml");

[TestCaseOrderer(typeof(StepOrderer))]
public sealed class BridgeYamlSteps(BridgeYaml lab) : IClassFixture<BridgeYaml>
{
    [LabTheory, ScenarioSteps(typeof(BridgeYaml))]
    public Task Step(int index) => lab.AssertStepAsync(index, TestContext.Current.CancellationToken);
}
