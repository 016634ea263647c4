using LabRunner.Engine;
using LabRunner.Loading;
using LabRunner.Reliability;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The fault sweep over the curriculum's kinds (issue 12: "kill -9 at every new action's crash point + clean leaves
/// nothing"): for every action of a scenarios/curriculum lab whose kind the article does not use (masquerade, publish,
/// serve, macvlan-add, iptables-rule with its user chain, link-set, an address in wan...), the run kills itself with
/// SIGKILL right after that action, then `labrunner clean` must leave the machine as before. On the process runtime,
/// the kinds' own undo being what is tested (the runtimes are swept over the article by FaultInjectionSpecs).
/// </summary>
public sealed class CurriculumFaultSpecs
{
    private static string Folder => Path.Combine(LabCli.RepoRoot, "scenarios", "curriculum");

    /// <summary>(lab, k): every action whose kind the article does not use, in labs this kernel can run.</summary>
    public static TheoryData<string, int> NewKindActions()
    {
        var article = ScenarioLoader.LoadFile(LabCli.Scenario("article/article.yaml")).AllActions.Select(a => a.Keyword).ToHashSet();
        var data = new TheoryData<string, int>();
        foreach (var file in Directory.EnumerateFiles(Folder, "*.yaml").Order(StringComparer.Ordinal))
        {
            var actions = ScenarioLoader.LoadFile(file).AllActions.ToList();
            if (actions.SelectMany(a => a.KernelFeatures).Any(f => EnvironmentCheck.ProbeKernel(f) is not null)) continue;
            for (var k = 1; k <= actions.Count; k++)
                if (!article.Contains(actions[k - 1].Keyword)) data.Add(Path.GetFileName(file), k);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(NewKindActions))]
    public async Task A_run_killed_right_after_a_new_kinds_action_is_cleaned_to_nothing(string lab, int k)
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var stateDir = Path.Combine(Path.GetTempPath(), $"lr-fault-test-{Guid.NewGuid():N}"[..26]);

        var result = await Reliability.FaultInjection.RunAsync(Path.Combine(Folder, lab), "process", "KILL", k, stateDir, ct);

        LabProcess.DeleteIfEmpty(stateDir);
        Assert.True(result.Clean, result.ToString());
    }

    [Fact]
    public void The_sweep_covers_every_curriculum_kind_the_article_does_not_use()
    {
        var article = ScenarioLoader.LoadFile(LabCli.Scenario("article/article.yaml")).AllActions.Select(a => a.Keyword).ToHashSet();
        var swept = NewKindActions().Select(r => ScenarioLoader.LoadFile(Path.Combine(Folder, r.Data.Item1)).AllActions.ElementAt(r.Data.Item2 - 1).Keyword).ToHashSet();

        foreach (var keyword in new[] { "masquerade", "publish", "serve", "macvlan-add", "iptables-rule", "link-set" })
        {
            Assert.DoesNotContain(keyword, article);
            Assert.Contains(keyword, swept);
        }
    }
}
