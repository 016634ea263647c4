using LabRunner.Reliability;
using LabRunner.Testing;

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

    /// <summary>
    /// Another lab starting or ending while a snapshot is taken is not a difference: its journal may appear between
    /// the snapshot's read of the journals and its listing of /var/run/netns (found by CI, where the regression
    /// suite's labs run beside these specs). Snapshots are taken back to back while labs start and end beside them.
    /// </summary>
    [Fact]
    public async Task Snapshots_taken_while_other_labs_start_and_end_see_nothing_of_them()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var baseline = HostSnapshot.Take();
        var differences = new List<string>();
        var snapshots = 0;

        var runs = Task.Run(async () =>
        {
            for (var i = 0; i < 4; i++)
            {
                var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/01-veth-bridge.yaml")], ct: ct);
                Assert.True(run.ExitCode == 0, run.ToString());
            }
        }, ct);
        while (!runs.IsCompleted)
        {
            var n = ++snapshots;
            differences.AddRange(baseline.Diff(HostSnapshot.Take()).Select(d => $"snapshot {n}: {d}"));
        }
        await runs;

        TestContext.Current.SendDiagnosticMessage($"{snapshots} snapshots while 4 labs ran");
        Assert.True(snapshots > 4, $"only {snapshots} snapshots");
        Assert.Empty(differences);
    }
}
