using System.Xml.Linq;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>`labrunner run --junit FILE --transcript FILE` on the real kernel: the files say what the console said.</summary>
public sealed class ReportFileSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_run_writes_a_JUnit_test_case_per_step_and_a_transcript_with_the_commands_it_ran()
    {
        Root.Require();
        using var dir = new TempDir();
        var junit = Path.Combine(dir.Path, "lab.xml");
        var transcript = Path.Combine(dir.Path, "lab.md");

        var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/01-veth-bridge.yaml"), "--junit", junit, "--transcript", transcript], ct: Ct);

        Assert.True(run.ExitCode == 0, run.ToString());
        var suite = XDocument.Load(junit).Root!.Element("testsuite")!;
        var steps = Loading.ScenarioLoader.LoadFile(LabCli.Scenario("article/01-veth-bridge.yaml")).Steps;
        Assert.Equal((steps.Length + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), suite.Attribute("tests")!.Value);
        Assert.Equal("0", suite.Attribute("failures")!.Value);
        Assert.Equal(steps.Select((s, i) => $"{i + 1:00} {s.Title}").Append("teardown"), suite.Elements("testcase").Select(c => c.Attribute("name")!.Value));
        var md = await File.ReadAllTextAsync(transcript, Ct);
        Assert.Contains("**PASSED**", md);
        Assert.Matches(@"\$ ip netns add lr-[0-9a-f]{6}-n1\n", md);
        Assert.Contains("RTNETLINK answers: File exists", md); // step 1.4's action that must fail, as observed
        Assert.Contains("Nothing of the lab is left on the host.", md);
    }

    [Fact]
    public async Task A_report_path_that_cannot_be_written_exits_2_before_anything_is_built()
    {
        Root.Require();
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/01-veth-bridge.yaml"), "--junit", "/nonexistent-dir/lab.xml"], ct: Ct);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("cannot write the report /nonexistent-dir/lab.xml: no directory /nonexistent-dir", run.Stderr);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task A_bug_report_bundle_replays_the_run_with_the_same_outcome_and_leaves_nothing()
    {
        Root.Require();
        using var dir = new TempDir();
        var text = await File.ReadAllTextAsync(LabCli.Scenario("article/03-container-to-container.yaml"), Ct);
        const string right = "- ping: { from: busybox-2, to: 172.16.100.101, succeeds: false }";
        Assert.Contains(right, text);
        var scenario = Path.Combine(dir.Path, "bug.yaml");
        await File.WriteAllTextAsync(scenario, text.Replace(right, "- ping: { from: busybox-2, to: 172.16.100.101, within: 1s }"), Ct);
        var bundle = Path.Combine(dir.Path, "bug.tar.gz");
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", scenario, "--bundle", bundle], ct: Ct);
        var replay = await LabCli.RunAsync(["replay", bundle, "--transcript", Path.Combine(dir.Path, "replay.md")], ct: Ct);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.True(replay.ExitCode == 1, replay.ToString());
        Assert.Contains("replaying " + bundle + ": labrunner run scenario/bug.yaml --runtime process", replay.Stdout);
        Assert.Contains("why: in host, bridged IPv4 frames of br-0 go through iptables", replay.Stdout);
        Assert.Contains("failed step: 3.2 busybox-2 cannot reach busybox-1", replay.Stdout);
        Assert.Contains("## 4. 3.2 busybox-2 cannot reach busybox-1", await File.ReadAllTextAsync(Path.Combine(dir.Path, "replay.md"), Ct));
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task Replaying_something_that_is_not_a_bundle_exits_2()
    {
        Root.Require();
        var replay = await LabCli.RunAsync(["replay", LabCli.Scenario("article/01-veth-bridge.yaml")], ct: Ct);

        Assert.True(replay.ExitCode == 2, replay.ToString());
        Assert.StartsWith("error: cannot replay ", replay.Stderr);
    }

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("lr-report-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
