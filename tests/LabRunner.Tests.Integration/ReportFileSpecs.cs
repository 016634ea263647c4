using System.Text.RegularExpressions;
using System.Xml.Linq;
using System.Xml.Schema;
using LabRunner.Reporting;
using LabRunner.Testing;
using LabRunner.Tests.Shared;

namespace LabRunner.Tests.Integration;

/// <summary>`labrunner run --junit FILE --transcript FILE --report FILE.html` on the real kernel: the files say what the console said.</summary>
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
        var report = XDocument.Load(junit);
        var schema = new XmlSchemaSet();
        schema.Add(null, Path.Combine(LabCli.RepoRoot, "tests", "LabRunner.Tests.Unit", "Schemas", "junit-10.xsd")); // Jenkins xUnit's, vendored
        var invalid = new List<string>();
        report.Validate(schema, (_, e) => invalid.Add(e.Message));
        Assert.Empty(invalid);
        var suite = report.Root!.Element("testsuite")!;
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

    /// <summary>
    /// Issue 15's pictures: in a run the topology after each step is what the kernel held, so busybox-1's address, set
    /// by a `command` action in step 2.6 (which the lab file's drawing cannot know), is in the report's drawing and in
    /// the transcript's; and the page shows in Chromium with a drawing of a real size for every step.
    /// </summary>
    [Fact]
    public async Task A_run_with_report_draws_each_step_from_the_kernel_so_what_a_command_did_shows()
    {
        Root.Require();
        if (Graphviz.Find() is null) Assert.Fail($"Graphviz's dot is not on PATH: the report's pictures need it. Fix: {Graphviz.Fix}");
        using var dir = new TempDir();
        var lab = LabCli.Scenario("article/02-container-host.yaml");
        var report = Path.Combine(dir.Path, "lab.html");
        var transcript = Path.Combine(dir.Path, "lab.md");
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", lab, "--report", report, "--transcript", transcript], ct: Ct);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("HTML report: " + report, run.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
        var steps = Loading.ScenarioLoader.LoadFile(lab).Steps;
        var html = await File.ReadAllTextAsync(report, Ct);
        Assert.Equal(steps.Length, Regex.Matches(html, "<figure class=\"topology\">\n<svg ").Count); // a drawing per step, none missing
        var address = steps.Select((s, i) => (s, i)).Single(x => x.s.Title.StartsWith("2.6 ", StringComparison.Ordinal)).i + 1;
        Assert.Contains("172.16.100.101/24", Section(html, address)); // set by a `command` action
        Assert.DoesNotContain("172.16.100.101/24", Section(html, address - 1));
        Assert.DoesNotContain("172.16.100.101", LabTopology.Of(Loading.ScenarioLoader.LoadFile(lab)).ToDot()); // the lab file's drawing cannot know it
        foreach (var fetch in new[] { "<script", "<link", "url(", "http://", "https://" }) Assert.DoesNotContain(fetch, html, StringComparison.OrdinalIgnoreCase);
        var md = await File.ReadAllTextAsync(transcript, Ct);
        Assert.Contains($"As the kernel held it after step {steps.Length}:", md);
        Assert.Contains("veth-2<br/>172.16.100.101/24", md);

        await using var browser = await ReportBrowser.LaunchAsync();
        await using var opened = await browser.OpenAsync(report);
        for (var i = 1; i <= steps.Length; i++)
        {
            Assert.True(await opened.Page.Locator($"#step-{i} h2").GetByText(steps[i - 1].Title).IsVisibleAsync(), $"step {i}'s title is not visible");
            var size = await opened.Page.Locator($"#step-{i} figure.topology svg").BoundingBoxAsync();
            Assert.True(size is { Width: > 50, Height: > 50 }, $"step {i}'s drawing is {size?.Width}x{size?.Height}");
        }
        Assert.True(await opened.Page.Locator($"#step-{address} figure.topology svg").GetByText("172.16.100.101/24").IsVisibleAsync());
        Assert.Equal([new Uri(report).AbsoluteUri], opened.Requests);
        await opened.ScreenshotAsync("article-02-real-run");
    }

    /// <summary>A failing run's report (the bundle spec's lab: 3.2's ping made to succeed) shows the failed check's why-line, in Chromium too, and the steps not run.</summary>
    [Fact]
    public async Task A_failing_run_still_writes_its_report_with_the_why_line_and_the_steps_not_run()
    {
        Root.Require();
        using var dir = new TempDir();
        var scenario = await WriteArticle03ExpectingThePingToPassAsync(dir.Path);
        var report = Path.Combine(dir.Path, "bug.html");
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", scenario, "--report", report], ct: Ct);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
        const string why = "in host, bridged IPv4 frames of br-0 go through iptables";
        Assert.Contains(why, run.Stdout);
        var html = await File.ReadAllTextAsync(report, Ct);
        Assert.Contains("<p class=\"verdict failed\">✗ FAILED</p>", html);
        Assert.Contains("<section class=\"not-run\" id=\"not-run\">", html);
        Assert.Contains("3.8 busybox-2 reaches busybox-1", html);

        await using var browser = await ReportBrowser.LaunchAsync();
        await using var opened = await browser.OpenAsync(report);
        var failed = opened.Page.Locator("section.step.failed");
        Assert.Equal(1, await failed.CountAsync());
        Assert.True(await failed.Locator(".why li").Filter(new() { HasText = why }).IsVisibleAsync(), "the why-line is not visible");
        Assert.True(await failed.Locator("figure.topology svg").IsVisibleAsync(), "the failed step has no drawing");
        await opened.ScreenshotAsync("article-03-failing-run");
    }

    private static string Section(string html, int step)
    {
        var start = html.IndexOf($"id=\"step-{step}\"", StringComparison.Ordinal);
        Assert.True(start > 0, $"no step {step} in the report");
        return html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];
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
        var scenario = await WriteArticle03ExpectingThePingToPassAsync(dir.Path);
        var bundle = Path.Combine(dir.Path, "bug.tar.gz");
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", scenario, "--bundle", bundle], ct: Ct);
        var replay = await LabCli.RunAsync(["replay", bundle, "--transcript", Path.Combine(dir.Path, "replay.md"), "--report", Path.Combine(dir.Path, "replay.html")], ct: Ct);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.True(replay.ExitCode == 1, replay.ToString());
        Assert.Contains("replaying " + bundle + ": labrunner run scenario/bug.yaml --runtime process", replay.Stdout);
        Assert.Contains("why: in host, bridged IPv4 frames of br-0 go through iptables", replay.Stdout);
        Assert.Contains("failed step: 3.2 busybox-2 cannot reach busybox-1", replay.Stdout);
        Assert.Contains("## 4. 3.2 busybox-2 cannot reach busybox-1", await File.ReadAllTextAsync(Path.Combine(dir.Path, "replay.md"), Ct));
        var page = await File.ReadAllTextAsync(Path.Combine(dir.Path, "replay.html"), Ct);
        Assert.Contains("<section class=\"step failed\" id=\"step-4\">", page);
        Assert.Contains("<span class=\"why-label\">why:</span> in host, bridged IPv4 frames of br-0 go through iptables", page);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    /// <summary>
    /// Issue 15: a bundle carries its captures' pcaps. The article's section 3 captures on br-0, veth-4 and veth-2 (3.5)
    /// and on veth-2 again (3.8): each pcap is in the bundle under captures/, listed with its SHA-256, and tcpdump reads
    /// it; where the lab expects packets (a point with 'sees'), tcpdump counts some. The bundle still replays (--plan).
    /// </summary>
    [Fact]
    public async Task A_bundle_of_a_run_with_captures_holds_their_pcaps_and_tcpdump_reads_them()
    {
        Root.Require();
        using var dir = new TempDir();
        var lab = LabCli.Scenario("article/03-container-to-container.yaml");
        var bundle = Path.Combine(dir.Path, "captures.tar.gz");
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", lab, "--bundle", bundle], ct: Ct);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
        var (manifest, root) = await BugBundle.ExtractAsync(bundle, Path.Combine(dir.Path, "out"), Ct);
        var points = Loading.ScenarioLoader.LoadFile(lab).Steps.SelectMany(s => s.Expectations).OfType<Model.CaptureExpectation>().SelectMany(c => c.On).ToList();
        Assert.Equal(points.Count, manifest.Captures!.Count);
        foreach (var (capture, point) in manifest.Captures.Zip(points))
        {
            Assert.True(capture.File is not null, $"{capture.Link}: left out: {capture.LeftOut}");
            Assert.StartsWith("captures/step-", capture.File);
            Assert.Equal(point.Link, capture.Link);
            Assert.True(manifest.Files!.ContainsKey(capture.File));
            var read = await CliWrap.Buffered.BufferedCommandExtensions.ExecuteBufferedAsync(
                CliWrap.Cli.Wrap("tcpdump").WithArguments(["-n", "-r", Path.Combine(root, capture.File)]).WithValidation(CliWrap.CommandResultValidation.None), Ct);
            Assert.True(read.ExitCode == 0, $"tcpdump -r {capture.File}: {read.StandardError}");
            var packets = read.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            if (!point.Sees.IsDefaultOrEmpty) Assert.True(packets > 0, $"{capture.File}: no packet, and the lab saw {string.Join(", ", point.Sees)}");
        }
        var plan = await LabCli.RunAsync(["replay", "--plan", bundle], ct: Ct);
        Assert.True(plan.ExitCode == 0, plan.ToString());
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

    /// <summary>
    /// The article's section 3 with 3.2's ping made to succeed (the bug a user would report): it fails, and the run
    /// goes on to its why-lines and teardown. Returns the lab's path in <paramref name="dir"/>.
    /// </summary>
    private static async Task<string> WriteArticle03ExpectingThePingToPassAsync(string dir)
    {
        var text = await File.ReadAllTextAsync(LabCli.Scenario("article/03-container-to-container.yaml"), Ct);
        const string right = "- ping: { from: busybox-2, to: 172.16.100.101, succeeds: false }";
        Assert.Contains(right, text);
        var scenario = Path.Combine(dir, "bug.yaml");
        await File.WriteAllTextAsync(scenario, text.Replace(right, "- ping: { from: busybox-2, to: 172.16.100.101, within: 1s }"), Ct);
        return scenario;
    }
}
