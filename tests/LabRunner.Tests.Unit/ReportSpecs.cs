using System.Collections.Immutable;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using System.Xml.Schema;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Reporting;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The report files of `labrunner run --junit FILE --transcript FILE`, from a recorded run: a passed step, a failed
/// one with its diagnosis, one not run, and the teardown. Times and dates are masked before the golden comparison.
/// </summary>
public sealed class ReportSpecs
{
    private static readonly Scenario Lab = Scenarios.Load("""
        lab: report
        description: Two containers on a bridge.
        steps:
          - title: "3.1 busybox-2 on br-0"
            text: The second container joins the bridge.
            actions:
              - container-run: busybox-2
          - title: "3.2 busybox-2 reaches busybox-1"
            expect:
              - ping: { from: busybox-2, to: 172.16.100.101 }
          - title: "3.3 never reached"
            expect:
              - ping: { from: busybox-2, to: 172.16.100.1 }
        """);

    private static RunRecord Recorded(bool teardownClean = true)
    {
        var recorder = new RunRecorder();
        var session = new LabSession("feed01", sandbox: true, Lab.Uplink);
        recorder.LabStarting(Lab, session);
        recorder.CommandRan(Command(CommandPurpose.Setup, "ip netns add lr-feed01"));

        recorder.StepStarting(Lab.Steps[0], 0, 3);
        recorder.CommandRan(Command(CommandPurpose.Action, "setsid unshare --net --uts --ipc -- busybox sleep 2147483647"));
        recorder.CommandRan(Command(CommandPurpose.Check, "ip -j link show")); // checks are not in the transcript
        recorder.ActionFinished(Lab.Steps[0].Actions[0], new ActionOutcome(ActionStatus.Done));
        recorder.StepFinished(Lab.Steps[0], passed: true);

        recorder.StepStarting(Lab.Steps[1], 1, 3);
        var ping = Lab.Steps[1].Expectations[0];
        recorder.ExpectationFinished(ping, new ExpectationResult(false, "ping from busybox-2 to 172.16.100.101 succeeds", "1 sent, 0 received (100% packet loss)", 3, TimeSpan.FromSeconds(5.2))
        {
            Diagnosis = ["ARP works: 172.16.100.101 is at aa:aa:aa:aa:aa:02 (veth-2 in busybox-1), so layer 2 reaches it", "in host, <br-0> & friends drop it"],
        });
        recorder.StepFinished(Lab.Steps[1], passed: false);

        recorder.TeardownStarting(2);
        recorder.CommandRan(Command(CommandPurpose.Teardown, "kill -KILL 4242"));
        recorder.CommandRan(Command(CommandPurpose.Teardown, "ip netns delete lr-feed01"));
        var teardown = new TeardownReport(2, [], teardownClean ? [] : ["/var/run/netns/lr-feed01 still exists"]) { Elapsed = TimeSpan.FromSeconds(68.25) };
        recorder.LabFinished(new LabResult("feed01", LabOutcome.Failed, Lab.Steps[1].Title, ["x"], teardown, TimeSpan.FromSeconds(7.5)));
        return recorder.Record;
    }

    private static CommandEvent Command(CommandPurpose purpose, string line) =>
        new(purpose, [.. line.Split(' ')], new CommandOutcome(0, "", "", TimeSpan.Zero));

    private static string Masked(string text) =>
        Regex.Replace(Regex.Replace(Regex.Replace(text, @"time=""\d+\.\d{3}""", @"time=""T"""), @"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d", "DATE"),
            @"hostname=""[^""]*""", @"hostname=""HOST""");

    [Fact]
    public void The_JUnit_report_has_a_test_case_per_step_and_one_for_the_teardown()
    {
        var xml = JUnitReport.Create(Recorded());

        var suite = xml.Root!.Element("testsuite")!;
        Assert.Equal("4", suite.Attribute("tests")!.Value);
        Assert.Equal("1", suite.Attribute("failures")!.Value);
        Assert.Equal("1", suite.Attribute("skipped")!.Value);
        var failure = suite.Elements("testcase").Single(c => c.Element("failure") is not null);
        Assert.Equal("02 3.2 busybox-2 reaches busybox-1", failure.Attribute("name")!.Value);
        Assert.Contains("why: in host, <br-0> & friends drop it", failure.Element("failure")!.Value);
        Golden.Verify("report.junit.xml", Masked(xml.Declaration + "\n" + xml));
    }

    /// <summary>
    /// The Jenkins xUnit plugin's junit-10.xsd (the JUnit dialect CI servers share), vendored under Schemas/ with its
    /// MIT notice. Every report is validated against it by System.Xml.Schema, not against a description of it.
    /// </summary>
    private static readonly Lazy<XmlSchemaSet> Junit10 = new(() =>
    {
        var set = new XmlSchemaSet();
        set.Add(null, Path.Combine(Repo.Root, "tests", "LabRunner.Tests.Unit", "Schemas", "junit-10.xsd"));
        set.Compile();
        return set;
    });

    /// <summary>Every error and warning junit-10.xsd finds in <paramref name="xml"/>, with its line.</summary>
    private static List<string> Junit10Errors(XDocument xml)
    {
        var errors = new List<string>();
        // Parsed again from its text, with line info, as a CI server reads the file.
        var parsed = XDocument.Parse(xml.ToString(), LoadOptions.SetLineInfo);
        parsed.Validate(Junit10.Value, (_, e) => errors.Add($"{e.Severity} line {e.Exception?.LineNumber}: {e.Message}"));
        return errors;
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void The_JUnit_report_is_valid_against_junit_10_xsd_and_names_its_suite_by_lab_and_runtime(bool teardownClean, bool withRuntime)
    {
        var xml = JUnitReport.Create(Recorded(teardownClean), withRuntime ? "containerd" : null);

        Assert.Empty(Junit10Errors(xml));
        var suite = xml.Root!.Element("testsuite")!;
        Assert.Equal(withRuntime ? "report (containerd)" : "report", suite.Attribute("name")!.Value);
        Assert.Equal(Environment.MachineName, suite.Attribute("hostname")!.Value);
        Assert.All(suite.Elements("testcase"), c => Assert.Equal(suite.Attribute("name")!.Value, c.Attribute("classname")!.Value));
    }

    /// <summary>The schema check can fail: the report LabRunner wrote before (a skipped count on &lt;testsuites&gt;) is refused.</summary>
    [Fact]
    public void A_skipped_count_on_testsuites_is_refused_by_junit_10_xsd()
    {
        var xml = JUnitReport.Create(Recorded());
        xml.Root!.SetAttributeValue("skipped", "1");

        var error = Assert.Single(Junit10Errors(xml));
        Assert.Contains("'skipped' attribute is not declared", error);
    }

    [Fact]
    public void Observations_in_the_transcript_read_as_written_on_GitHub_GitLab_and_VS_Code()
    {
        Assert.Equal(@"state UNKNOWN, flags \<LOOPBACK,UP\>, net.ipv4.ip\_forward = 1, a \*b\* \`c\`",
            MarkdownTranscript.Text("state UNKNOWN, flags <LOOPBACK,UP>, net.ipv4.ip_forward = 1, a *b* `c`"));
        var md = MarkdownTranscript.Create(Recorded());
        Assert.Contains(@"why: in host, \<br-0\> & friends drop it", md);
        Assert.DoesNotContain("<br-0>", md.Split("```").Where((_, i) => i % 2 == 0).Aggregate("", (a, b) => a + b)); // outside code blocks
    }

    [Fact]
    public void The_teardown_test_case_takes_as_long_as_the_teardown_did()
    {
        var teardown = JUnitReport.Create(Recorded()).Root!.Descendants("testcase").Single(c => c.Attribute("name")!.Value == "teardown");

        Assert.Equal("68.250", teardown.Attribute("time")!.Value);
    }

    [Fact]
    public void A_teardown_that_left_something_is_a_failed_test_case()
    {
        var teardown = JUnitReport.Create(Recorded(teardownClean: false)).Root!.Descendants("testcase").Single(c => c.Attribute("name")!.Value == "teardown");

        Assert.Equal("left behind: /var/run/netns/lr-feed01 still exists", teardown.Element("failure")!.Attribute("message")!.Value);
    }

    [Fact]
    public void The_JUnit_report_parses_as_XML_whatever_the_observations_hold()
    {
        var text = JUnitReport.Create(Recorded()).ToString();

        Assert.Equal("testsuites", XDocument.Parse(text).Root!.Name.LocalName);
        Assert.Contains("&lt;br-0&gt; &amp; friends", text);
    }

    [Fact]
    public void The_transcript_reads_like_the_article_with_commands_checks_and_the_diagnosis()
    {
        var md = MarkdownTranscript.Create(Recorded());

        Assert.DoesNotContain("ip -j link show", md);
        Assert.Contains("**FAILED**: 0 of 1 checks held in 7.5 s; exit code 1.", md);
        Golden.Verify("report.transcript.md", Masked(md));
    }

    [Fact]
    public void A_step_cut_short_by_a_signal_is_recorded_as_not_passed()
    {
        var recorder = new RunRecorder();
        recorder.LabStarting(Lab, new LabSession("feed02", true, Lab.Uplink));
        recorder.StepStarting(Lab.Steps[0], 0, 3);
        recorder.CommandRan(Command(CommandPurpose.Action, "setsid unshare --net -- busybox sleep 2147483647"));
        recorder.TeardownStarting(1);
        recorder.LabFinished(new LabResult("feed02", LabOutcome.Interrupted, null, [], new TeardownReport(1, [], []), TimeSpan.FromSeconds(1)));

        var record = recorder.Record;

        var step = Assert.Single(record.Steps);
        Assert.False(step.Passed);
        Assert.Single(step.Commands);
        Assert.Equal("interrupted", JUnitReport.Create(record).Root!.Descendants("error").Single().Attribute("type")!.Value);
        Assert.Contains("*This step was cut short (interrupted).*", MarkdownTranscript.Create(record));
        Assert.Equal(ImmutableArray.Create("3.2 busybox-2 reaches busybox-1", "3.3 never reached"), [.. record.NotRun.Select(s => s.Title)]);
    }
}
