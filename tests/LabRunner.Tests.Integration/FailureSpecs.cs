using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>Failures are reported precisely, with exit codes, and never leave anything behind.</summary>
public sealed class FailureSpecs
{
    [Fact]
    public async Task A_wrong_expectation_exits_1_names_the_step_shows_expected_and_observed_and_tears_everything_down()
    {
        Root.Require();
        var text = await File.ReadAllTextAsync(LabCli.Scenario("article/article.yaml"), TestContext.Current.CancellationToken);
        const string right = "- ping: { from: busybox-2, to: 172.16.100.101, succeeds: false }";
        Assert.Contains(right, text);
        var wrong = WriteTemp(text.Replace(right, "- ping: { from: busybox-2, to: 172.16.100.101, within: 2s }"));
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", wrong], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("failed step: 3.2 busybox-2 cannot reach busybox-1", run.Stdout);
        Assert.Contains("expected: ping from busybox-2 to 172.16.100.101 succeeds", run.Stdout);
        Assert.Contains("observed: 1 sent, 0 received (100% packet loss)", run.Stdout);
        // The diagnosis follows the path to the article's cause.
        Assert.Matches(@"why: ARP works: 172\.16\.100\.101 is at [0-9a-f:]{17} \(veth-2 in busybox-1\), so layer 2 reaches it", run.Stdout);
        Assert.Contains("why: in host, bridged IPv4 frames of br-0 go through iptables (net.bridge.bridge-nf-call-iptables = 1) and the filter FORWARD policy is DROP", run.Stdout);
        Assert.DoesNotContain("Step 3.3 (", run.Stdout); // the lab stops at the failing step
        Assert.Contains("  - 3.3 busybox-2 reaches br-0", run.Stdout); // and says which steps it did not run
        Assert.Contains("nothing of the lab is left", run.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task An_action_that_should_fail_but_succeeds_exits_1()
    {
        Root.Require();
        var scenario = WriteTemp("""
            lab: should-fail
            steps:
              - title: creating a fresh netns works, so expecting an error is wrong
                actions:
                  - netns-add: n1
                    fails-with: "File exists"
            """);
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", scenario], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("should have failed with \"File exists\" but succeeded", run.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task A_malformed_file_exits_2_with_its_position_and_touches_nothing()
    {
        Root.Require();
        var scenario = WriteTemp("""
            lab: malformed
            steps:
              - title: a bad address
                actions:
                  - netns-add: n1
                  - veth-add: { name: veth-1, peer: veth-2, peer-in: n1 }
                  - address-add: { dev: veth-1, address: 172.16.100.300/24 }
            """);
        var before = HostSnapshot.Take();

        var validate = await LabCli.RunAsync(["validate", scenario], ct: TestContext.Current.CancellationToken);
        var run = await LabCli.RunAsync(["run", scenario], ct: TestContext.Current.CancellationToken);

        Assert.True(validate.ExitCode == 2, validate.ToString());
        Assert.Contains($"{scenario}:7:46: error: '172.16.100.300' is not an IPv4 address", validate.Stderr);
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.DoesNotContain("$ ip", run.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task Usage_errors_exit_2()
    {
        var run = await LabCli.RunAsync(["run"], ct: TestContext.Current.CancellationToken);
        Assert.True(run.ExitCode == 2, run.ToString());
    }

    internal static string WriteTemp(string text) => TestFiles.Write(text);
}
