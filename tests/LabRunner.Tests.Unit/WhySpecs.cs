using LabRunner.Authoring;
using LabRunner.Engine;
using LabRunner.Engine.Diagnosis;
using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Reporting;
using LabRunner.Tests.Unit.Infrastructure;
using Spectre.Console;

namespace LabRunner.Tests.Unit;

/// <summary>
/// A lab's <c>why:</c> (an expected failure that must be explained by named diagnosis classes): how it is read and
/// refused, how it decides whether the expectation holds, and the iptables-save parser the diagnosis reads counters with.
/// </summary>
public sealed class WhySpecs
{
    private static Expectation Only(string expect) =>
        Scenarios.Load($"""
            lab: why
            steps:
              - title: s
                actions: [ {"{"} container-run: c1 {"}"}, {"{"} netns-add: n1 {"}"} ]
                expect:
                  - {expect}
            """).Steps[0].Expectations.Single();

    [Fact]
    public void Why_takes_one_class_or_a_list_on_ping_connect_and_http()
    {
        Assert.Equal(["no-return-route"], Only("ping: { from: c1, to: 10.0.2.2, succeeds: false, why: no-return-route }").Why);
        Assert.Equal(["iptables-drop", "rp-filter"], Only("ping: { from: c1, to: 10.0.2.2, succeeds: false, why: [iptables-drop, rp-filter] }").Why);
        Assert.Equal(["not-listening"], Only("connect: { from: n1, to: 10.0.2.1, port: 8080, result: refused, why: not-listening }").Why);
        var http = (HttpExpectation)Only("http: { from: n1, url: \"http://10.0.2.1:8080/\", succeeds: false, why: not-listening }");
        Assert.Equal(["not-listening"], http.Why);
        Assert.False(http.Succeeds);
        Assert.Equal("GET http://10.0.2.1:8080/ from n1 gets no answer, explained by not-listening", http.Describe());
        Assert.Empty(Only("ping: { from: c1, to: 10.0.2.2 }").Why);
    }

    [Fact]
    public void An_unknown_class_is_refused_at_its_position_with_the_nearest_and_the_known_ids()
    {
        var error = Scenarios.ErrorIn("""
            lab: why
            steps:
              - title: s
                actions: [ { container-run: c1 } ]
                expect:
                  - ping: { from: c1, to: 10.0.2.2, succeeds: false, why: [rp-filter, no-return-rout] }
            """);

        error.At(6, 75);
        Assert.Equal("unknown diagnosis class 'no-return-rout'", error.Message);
        Assert.StartsWith("did you mean 'no-return-route'? known: no-route, link-down, mtu-exceeded,", error.Hint);
    }

    [Theory]
    [InlineData("ping: { from: c1, to: 10.0.2.2, why: no-return-route }", "add 'succeeds: false'")]
    [InlineData("connect: { from: c1, to: 10.0.2.2, port: 80, why: not-listening }", "expect 'result: refused'")]
    [InlineData("http: { from: c1, url: \"http://10.0.2.2/\", why: not-listening }", "add 'succeeds: false'")]
    public void Why_on_an_expectation_that_expects_success_is_refused(string expect, string hint)
    {
        var error = Scenarios.ErrorIn($"""
            lab: why
            steps:
              - title: s
                actions: [ {"{"} container-run: c1 {"}"} ]
                expect:
                  - {expect}
            """);

        Assert.Equal("'why' explains an expected failure", error.Message);
        Assert.StartsWith(hint, error.Hint);
    }

    [Fact]
    public void A_GET_that_must_get_no_answer_has_no_status()
    {
        var error = Scenarios.ErrorIn("""
            lab: why
            steps:
              - title: s
                actions: [ { container-run: c1 } ]
                expect:
                  - http: { from: c1, url: "http://10.0.2.2/", succeeds: false, status: 200 }
            """);

        Assert.Equal("a GET that gets no answer has no status or body", error.Message);
    }

    [Fact]
    public void The_CSharp_shims_write_the_same_why_as_YAML()
    {
        var csharp = Lab.Named("why")
            .Step("s", s => s
                .Container("c1")
                .Expect.Ping(from: "c1", to: "10.0.2.2").Fails().Why("no-return-route")
                .Expect.Ping(from: "c1", to: "10.0.2.2").Fails().Why(["iptables-drop", "rp-filter"])
                .Expect.Ping(from: "c1", to: "10.0.2.2").Fails().Size(1472).DontFragment().Why("mtu-exceeded")
                .Expect.Connect(from: "c1", to: "10.0.2.1", port: 8080, result: "refused", why: ["not-listening"])
                .Expect.Http(from: "c1", url: "http://10.0.2.1:8080/", succeeds: false, why: ["not-listening"]))
            .Build();
        var yaml = Scenarios.Load("""
            lab: why
            steps:
              - title: s
                actions: [ { container-run: c1 } ]
                expect:
                  - ping: { from: c1, to: 10.0.2.2, succeeds: false, why: no-return-route }
                  - ping: { from: c1, to: 10.0.2.2, succeeds: false, why: [iptables-drop, rp-filter] }
                  - ping: { from: c1, to: 10.0.2.2, succeeds: false, size: 1472, dont-fragment: true, why: mtu-exceeded }
                  - connect: { from: c1, to: 10.0.2.1, port: 8080, result: refused, why: not-listening }
                  - http: { from: c1, url: "http://10.0.2.1:8080/", succeeds: false, why: not-listening }
            """);

        Assert.Equal(yaml.Steps[0].Expectations.Select(e => (e.Describe(), string.Join(",", e.Why))),
            csharp.Steps[0].Expectations.Select(e => (e.Describe(), string.Join(",", e.Why))));
        Assert.Equal("ping from c1 to 10.0.2.2 with 1472 data bytes with DF set fails, explained by mtu-exceeded", yaml.Steps[0].Expectations[2].Describe());
    }

    // ---------- how a why decides ----------

    private static readonly ExpectationResult Held = new(true, "ping from c1 to 10.0.2.2 fails", "2 sent, 0 received (100% packet loss)", 1, TimeSpan.Zero);

    private static readonly IReadOnlyList<Finding> Found =
    [
        new(null, "c1 sends to 10.0.2.2 via eth0, through the gateway 172.16.100.1, from 172.16.100.101"),
        new("no-return-route", "the reply cannot come back: …"),
        new("no-return-route", "try: masquerade: …"),
    ];

    private static Expectation Ping(params string[] why) =>
        new PingExpectation(Place.Container("c1"), "10.0.2.2", false, 2) { Why = [.. why] };

    [Fact]
    public void An_expected_failure_holds_when_the_diagnosis_found_every_class_named_and_keeps_its_why_lines()
    {
        var result = ExpectationEvaluator.Explained(Held, Ping("no-return-route"), Found);

        Assert.True(result.Held);
        Assert.Equal("2 sent, 0 received (100% packet loss); why: no-return-route", result.Observed);
        Assert.Equal(Found.Select(f => f.Text), result.Diagnosis);
        Assert.Equal(["no-return-route"], result.DiagnosisClasses);
    }

    [Fact]
    public void An_expected_failure_explained_otherwise_does_not_hold_and_says_what_was_found()
    {
        var result = ExpectationEvaluator.Explained(Held, Ping("no-return-route", "rp-filter"), Found);

        Assert.False(result.Held);
        Assert.Equal("2 sent, 0 received (100% packet loss); why: the diagnosis found no-return-route, not rp-filter", result.Observed);

        result = ExpectationEvaluator.Explained(Held, Ping("iptables-drop"), [Found[0]]);
        Assert.False(result.Held);
        Assert.EndsWith("; why: the diagnosis found no class, not iptables-drop", result.Observed);
    }

    [Fact]
    public void An_expected_failure_that_did_not_happen_fails_as_observed_without_a_why_verdict()
    {
        var answered = Held with { Held = false, Observed = "2 sent, 2 received" };

        var result = ExpectationEvaluator.Explained(answered, Ping("bridge-netfilter"), []);

        Assert.False(result.Held);
        Assert.Equal("2 sent, 2 received", result.Observed);
    }

    [Fact]
    public void A_failure_without_why_keeps_its_observation_and_gets_its_why_lines()
    {
        var failed = Held with { Held = false };

        var result = ExpectationEvaluator.Explained(failed, new PingExpectation(Place.Container("c1"), "10.0.2.2", true, 1), Found);

        Assert.False(result.Held);
        Assert.Equal(failed.Observed, result.Observed);
        Assert.Equal(3, result.Diagnosis.Count);
    }

    // ---------- the why-lines of an expected failure, shown under its tick ----------

    private static readonly Scenario Shown = Scenarios.Load("""
        lab: shown
        steps:
          - title: "3 The reply cannot come back"
            actions: [ { container-run: busybox-1 } ]
            expect:
              - ping: { from: busybox-1, to: 10.0.2.2, succeeds: false, why: no-return-route }
        """);

    private static readonly ExpectationResult Explained = new(true, "ping from busybox-1 to 10.0.2.2 fails, explained by no-return-route",
        "2 sent, 0 received (100% packet loss); why: no-return-route", 1, TimeSpan.FromSeconds(2.1))
    {
        Diagnosis = ["the reply cannot come back: netns outside has no route to 172.16.100.101", "try: masquerade: { source: 172.16.100.0/24, out: to-outside } in host"],
        DiagnosisClasses = ["no-return-route"],
    };

    [Fact]
    public void The_console_shows_an_explained_expected_failure_with_its_why_lines_under_the_tick()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        console.Profile.Width = 1000;
        var reporter = new LabRunner.Cli.Output.ConsoleReporter(console, verbose: false);
        reporter.LabStarting(Shown, new LabSession("abc123", true, Shown.Uplink));
        reporter.StepStarting(Shown.Steps[0], 0, 1);

        reporter.ExpectationFinished(Shown.Steps[0].Expectations[0], Explained);

        Assert.Contains("✓ ping from busybox-1 to 10.0.2.2 fails, explained by no-return-route (2 sent, 0 received (100% packet loss); why: no-return-route)\n" +
                        "      why: the reply cannot come back: netns outside has no route to 172.16.100.101\n" +
                        "      why: try: masquerade: { source: 172.16.100.0/24, out: to-outside } in host\n", output.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void The_transcript_and_the_HTML_report_show_an_explained_expected_failure_with_its_why_lines()
    {
        var recorder = new RunRecorder();
        recorder.LabStarting(Shown, new LabSession("feed01", sandbox: true, Shown.Uplink));
        recorder.StepStarting(Shown.Steps[0], 0, 1);
        recorder.ExpectationFinished(Shown.Steps[0].Expectations[0], Explained);
        recorder.StepFinished(Shown.Steps[0], passed: true);
        recorder.TeardownStarting(0);
        recorder.LabFinished(new LabResult("feed01", LabOutcome.Passed, null, [], new TeardownReport(0, [], []), TimeSpan.FromSeconds(3)));

        var md = MarkdownTranscript.Create(recorder.Record);
        var html = HtmlReport.Create(recorder.Record);

        Assert.Contains("why: no-return-route\n  - why: the reply cannot come back: netns outside has no route to 172.16.100.101\n", md.ReplaceLineEndings("\n"));
        Assert.Contains("<li class=\"held\">", html);
        Assert.Contains("<span class=\"why-label\">why:</span> the reply cannot come back: netns outside has no route to 172.16.100.101", html);
    }

    // ---------- iptables-save -c ----------

    /// <summary>iptables-save -c of an `unshare -n` experiment on this kernel (iptables-nft 1.8.9), after two pings hit the DROP.</summary>
    private const string Saved = """
        # Generated by iptables-save v1.8.9 (nf_tables) on Mon Nov 30 13:33:11 2026
        *raw
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        [0:0] -A PREROUTING -s 10.8.8.8/32 -j DROP
        COMMIT
        # Completed on Mon Nov 30 13:33:11 2026
        # Generated by iptables-save v1.8.9 (nf_tables) on Mon Nov 30 13:33:11 2026
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD DROP [2:168]
        :OUTPUT ACCEPT [0:0]
        :LAB-POLICY - [0:0]
        [2:120] -A INPUT -p tcp -m tcp --dport 81 -j REJECT --reject-with icmp-port-unreachable
        [0:0] -A INPUT -m comment --comment "lab \"x\" rule" -j LAB-POLICY
        [7:588] -A LAB-POLICY -s 172.16.100.103/32 -j DROP
        COMMIT
        # Completed on Mon Nov 30 13:33:11 2026
        """;

    [Fact]
    public void Iptables_save_is_read_into_tables_chains_with_policies_and_counters_and_rules_with_theirs()
    {
        var saved = IptablesSave.Parse(Saved);

        Assert.Equal(["raw", "filter"], saved.Tables.Select(t => t.Name));
        Assert.Empty(saved.Unread);
        var forward = saved.Table("filter")!.Chain("FORWARD")!;
        Assert.Equal(("DROP", 2L, 168L), (forward.Policy, forward.Packets, forward.Bytes));
        Assert.Null(saved.Table("filter")!.Chain("LAB-POLICY")!.Policy);
        var rules = saved.Table("filter")!.Rules;
        Assert.Equal(["REJECT", "LAB-POLICY", "DROP"], rules.Select(r => r.Target));
        Assert.Equal([1, 2, 1], rules.Select(r => r.Position));
        Assert.Equal(2L, rules[0].Packets);
        Assert.Equal("81", rules[0].Option("--dport"));
        Assert.Equal("lab \"x\" rule", rules[1].Option("--comment"));
        Assert.Equal("-A LAB-POLICY -s 172.16.100.103/32 -j DROP", rules[2].Text);
        Assert.Equal("iptables -t filter -D LAB-POLICY -s 172.16.100.103/32 -j DROP", rules[2].DeleteCommand);
        Assert.Null(saved.Table("nat"));
    }

    [Fact]
    public void Iptables_save_without_counters_and_lines_of_no_known_form_are_read_as_far_as_they_go()
    {
        var saved = IptablesSave.Parse("*nat\n:POSTROUTING ACCEPT\n-A POSTROUTING ! -s 10.0.0.0/8 -o eth0 -j MASQUERADE\nnonsense\n[x:y] -A X\nCOMMIT\n");

        var rule = saved.Table("nat")!.Rules.Single();
        Assert.Null(rule.Packets);
        Assert.True(rule.Negated("-s"));
        Assert.False(rule.Negated("-o"));
        Assert.Equal(["nonsense", "[x:y] -A X"], saved.Unread);
    }
}
