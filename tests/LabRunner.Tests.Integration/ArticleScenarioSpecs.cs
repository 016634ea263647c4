using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>Every article scenario runs for real, passes, and leaves the machine exactly as it was.</summary>
public sealed class ArticleScenarioSpecs
{
    private static readonly string[] ScenarioFiles =
    [
        "article/01-veth-bridge.yaml",
        "article/02-container-host.yaml",
        "article/03-container-to-container.yaml",
        "article/04-shared-netns.yaml",
        "article/article.yaml",
    ];

    /// <summary>Every article scenario on every runtime: the same files, no edits.</summary>
    public static TheoryData<string, string> Scenarios =>
        [.. from runtime in Runtimes.ContainerRuntimes.Names from file in ScenarioFiles select (file, runtime)];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Each_article_scenario_passes_and_leaves_nothing(string scenario, string runtime)
    {
        Root.Require(runtime);
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", LabCli.Scenario(scenario), "--runtime", runtime], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("PASSED", run.Stdout);
        Assert.DoesNotContain("✗", run.Stdout);
        Assert.Contains("nothing of the lab is left", run.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Theory]
    [MemberData(nameof(Root.Runtimes), MemberType = typeof(Root))]
    public async Task The_container_sharing_busybox_1s_namespace_sees_the_same_veth_MAC_and_address(string runtime)
    {
        Root.Require(runtime);
        var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/04-shared-netns.yaml"), "--runtime", runtime], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("✓ veth-2 present in container busybox-3: state UP, MAC of veth-2 in busybox-1", run.Stdout);
        Assert.Contains("✓ veth-2 in container busybox-3 has 172.16.100.101/24", run.Stdout);
        Assert.Contains("✓ busybox-2 resolves 172.16.100.101 to the MAC of veth-2 in busybox-3", run.Stdout);
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
