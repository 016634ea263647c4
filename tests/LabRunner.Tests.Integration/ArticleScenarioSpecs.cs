using LabRunner.Platform;

namespace LabRunner.Tests.Integration;

/// <summary>Every article scenario runs for real, passes, and leaves the machine exactly as it was.</summary>
public sealed class ArticleScenarioSpecs
{
    public static TheoryData<string> Scenarios =>
    [
        "article/01-veth-bridge.yaml",
        "article/02-container-host.yaml",
        "article/03-container-to-container.yaml",
        "article/04-shared-netns.yaml",
        "article/article.yaml",
    ];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Each_article_scenario_passes_and_leaves_nothing(string scenario)
    {
        Root.Require();
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", LabCli.Scenario(scenario)], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("PASSED", run.Stdout);
        Assert.DoesNotContain("✗", run.Stdout);
        Assert.Contains("nothing of the lab is left", run.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task The_article_shows_the_failing_ping_before_the_sysctl_change_and_the_passing_one_after()
    {
        Root.Require();
        var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/article.yaml")], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        var failing = run.Stdout.IndexOf("✓ ping from busybox-2 to 172.16.100.101 fails (2 sent, 0 received", StringComparison.Ordinal);
        var sysctl = run.Stdout.IndexOf("sysctl -w net.bridge.bridge-nf-call-iptables=0", StringComparison.Ordinal);
        var passing = run.Stdout.IndexOf("✓ ping from busybox-2 to 172.16.100.101 succeeds", StringComparison.Ordinal);
        Assert.True(failing > 0 && sysctl > failing && passing > sysctl, run.Stdout);
        Assert.Contains("✓ veth-add failed as expected: RTNETLINK answers: File exists", run.Stdout);
        Assert.Matches(@"✓ command failed as expected: Cannot open network namespace ""\d+"": No such file or directory", run.Stdout);
    }

    [Fact]
    public async Task Two_runs_of_the_article_at_the_same_time_both_pass_and_leave_nothing()
    {
        Root.Require();
        var before = HostSnapshot.Take();
        var ct = TestContext.Current.CancellationToken;

        var runs = await Task.WhenAll(
            LabCli.RunAsync(["run", LabCli.Scenario("article/article.yaml")], ct: ct),
            LabCli.RunAsync(["run", LabCli.Scenario("article/article.yaml")], ct: ct));

        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.ToString()));
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }
}
