namespace LabRunner.Tests.Regression;

/// <summary>scenarios/article/article.yaml, as written for `labrunner run`, run here as a test per step.</summary>
public sealed class ArticleYaml() : ScenarioFileFixture("scenarios/article/article.yaml");

/// <summary>
/// Each step of article.yaml is its own test result ("article 03/24: 1.2 A namespace and a veth pair"): the lab is
/// built once for the class, the steps run in order, and a step after a failing one is skipped as not run.
/// </summary>
[TestCaseOrderer(typeof(StepOrderer))]
public sealed class ArticleYamlSteps(ArticleYaml lab) : IClassFixture<ArticleYaml>
{
    [LabTheory]
    [ScenarioSteps(typeof(ArticleYaml))]
    public Task Step(int index) => lab.AssertStepAsync(index, TestContext.Current.CancellationToken);
}
