using LabRunner.Reliability;

namespace LabRunner.Tests.Integration;

/// <summary>
/// Labs at once: eight sandboxed runs of article.yaml at the same time all pass, get eight distinct lab ids
/// (so no /var/run/netns name, container name or journal is shared) and leave nothing. 50 in a row is
/// `scripts/reliability.sh consecutive` (figures in docs/RELIABILITY.md).
/// </summary>
public sealed class ConcurrencySpecs
{
    [Fact]
    public async Task Eight_runs_of_the_article_at_once_all_pass_and_leave_nothing()
    {
        Root.Require();

        var result = await Concurrency.ParallelAsync(8, "process", LabCli.Scenario("article/article.yaml"), TestContext.Current.CancellationToken);

        TestContext.Current.SendDiagnosticMessage($"8 parallel runs: {result.Runs.Count(r => r.ExitCode == 0)} passed in {result.Elapsed.TotalSeconds:0.0}s");
        Assert.True(result.Clean, string.Join("\n", result.Problems));
        Assert.Equal(8, result.Runs.Select(r => r.LabId).Distinct().Count());
    }

    [Fact]
    public async Task Three_runs_in_a_row_each_pass_and_leave_nothing()
    {
        Root.Require();

        var result = await Concurrency.ConsecutiveAsync(3, "process", LabCli.Scenario("article/article.yaml"), ct: TestContext.Current.CancellationToken);

        Assert.True(result.Clean, string.Join("\n", result.Problems));
    }
}
