using LabRunner.Reliability;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The CI slice of the fault-injection sweep (the full sweep, every k of K on every runtime and signal, is
/// `scripts/reliability.sh faults`; figures in docs/RELIABILITY.md). For each runtime and signal, two action
/// indexes k spread over article.yaml: the run signals itself right after action k; after SIGKILL `labrunner
/// clean` must leave the host as before, after SIGINT/SIGTERM the run's own teardown must, with exit 130/143.
/// Over the three signals of a runtime the six indexes cover the article from its first action to its last.
/// </summary>
public sealed class FaultInjectionSpecs
{
    private static string Article => LabCli.Scenario("article/article.yaml");

    public static TheoryData<string, string, int, int> Slice()
    {
        var k = FaultInjection.ActionCount(Article);
        var spread = FaultInjection.Spread(k, 6);
        var data = new TheoryData<string, string, int, int>();
        for (var r = 0; r < Runtimes.ContainerRuntimes.Names.Count; r++)
            for (var s = 0; s < FaultInjection.Signals.Count; s++)
            {
                var i = (2 * s + r) % spread.Count; // each runtime gets every spread point once over its three signals
                data.Add(Runtimes.ContainerRuntimes.Names[r], FaultInjection.Signals[s], spread[i], spread[(i + 3) % spread.Count]);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(Slice))]
    public async Task A_run_signalled_right_after_action_k_leaves_nothing(string runtime, string signal, int k1, int k2)
    {
        Root.Require(runtime);
        var ct = TestContext.Current.CancellationToken;
        var stateDir = Path.Combine(Path.GetTempPath(), $"lr-fault-test-{Guid.NewGuid():N}"[..26]);
        var total = FaultInjection.ActionCount(Article);

        var cases = new List<FaultCase>();
        foreach (var k in new[] { k1, k2 }) cases.Add(await FaultInjection.RunAsync(Article, runtime, signal, k, stateDir, ct));

        LabProcess.DeleteIfEmpty(stateDir);
        var clean = cases.Count(c => c.Clean);
        TestContext.Current.SendDiagnosticMessage($"{runtime} SIG{signal}: {clean} of {cases.Count} clean (k = {k1}, {k2} of K = {total})");
        Assert.True(clean == cases.Count, $"{runtime} SIG{signal}: {clean} of {cases.Count} clean:\n{string.Join("\n", cases)}");
    }

    [Fact]
    public void The_slice_covers_each_runtime_and_signal_and_spans_the_article()
    {
        var rows = Slice().Select(r => r.Data).ToList();
        var k = FaultInjection.ActionCount(Article);
        Assert.Equal(9, rows.Count);
        foreach (var runtime in Runtimes.ContainerRuntimes.Names)
        {
            var ks = rows.Where(r => r.Item1 == runtime).SelectMany(r => new[] { r.Item3, r.Item4 }).ToHashSet();
            Assert.Contains(1, ks);
            Assert.Contains(k, ks);
        }
    }
}
