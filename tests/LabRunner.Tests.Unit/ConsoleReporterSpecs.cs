using System.Collections.Immutable;
using LabRunner.Cli.Output;
using LabRunner.Execution;
using Spectre.Console;

namespace LabRunner.Tests.Unit;

/// <summary>What a trainer sees on a terminal, with colours on (issue 15).</summary>
public sealed class ConsoleReporterSpecs
{
    [Fact]
    public void A_command_is_shown_in_the_terminals_own_colour_so_it_reads_on_a_light_background_too()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.Yes, ColorSystem = ColorSystemSupport.Standard, Out = new AnsiConsoleOutput(output) });
        var reporter = new ConsoleReporter(console, verbose: true);

        reporter.CommandRan(new CommandEvent(CommandPurpose.Action, ["ip", "netns", "add", "n1"], new CommandOutcome(0, "", "", TimeSpan.Zero)));
        reporter.CommandRan(new CommandEvent(CommandPurpose.Check, ImmutableArray.Create("ip", "-j", "link", "show"), new CommandOutcome(0, "", "", TimeSpan.Zero)));

        var text = output.ToString();
        Assert.Contains("$ ip netns add n1", text);
        Assert.Contains("\u001b[", text); // colours are on: the check is grey
        Assert.DoesNotContain("\u001b[37m", text); // white
        Assert.DoesNotContain("\u001b[97m", text); // bright white
    }

    [Theory]
    [InlineData(true, "$ ip -n lr-t link set dev veth-1 up (netlink)")]
    [InlineData(false, "$ ip -n lr-t link set dev veth-1 up\n")]
    public void Verbose_says_which_commands_the_netlink_driver_ran_in_process(bool verbose, string shown)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        var reporter = new ConsoleReporter(console, verbose);

        reporter.CommandRan(new CommandEvent(CommandPurpose.Action, ["ip", "-n", "lr-t", "link", "set", "dev", "veth-1", "up"], new CommandOutcome(0, "", "", TimeSpan.Zero)) { Driver = "netlink" });

        Assert.Contains(shown, output.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void After_a_failure_the_steps_not_run_are_listed_and_their_expectations_counted_as_not_run_never_as_held()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        var reporter = new ConsoleReporter(console, verbose: false);
        var scenario = Loading.ScenarioLoader.Load("""
            lab: three
            steps:
              - title: first
                expect: [ { ping: { from: host, to: 10.0.0.1 } } ]
              - title: second
                expect: [ { ping: { from: host, to: 10.0.0.2 } }, { ping: { from: host, to: 10.0.0.3 } } ]
              - title: third
                expect: [ { ping: { from: host, to: 10.0.0.4 } } ]
            """, "lab.yaml");
        var session = new Engine.LabSession("abc123", true, scenario.Uplink);

        reporter.LabStarting(scenario, session);
        reporter.StepStarting(scenario.Steps[0], 0, 3);
        var ping = scenario.Steps[0].Expectations[0];
        reporter.ExpectationFinished(ping, new Engine.ExpectationResult(false, ping.Describe(), "1 sent, 0 received", 1, TimeSpan.Zero));
        reporter.LabFinished(new Engine.LabResult("abc123", Engine.LabOutcome.Failed, "first", ["lab.yaml:4:17: expected ..."],
            new Engine.TeardownReport(3, [], []), TimeSpan.FromSeconds(1)));

        var text = output.ToString();
        Assert.Contains("FAILED: 0/4 expectations held, 3 not run in 1.0s", text);
        Assert.Contains("not run (2 steps):", text);
        Assert.Contains("- second", text);
        Assert.Contains("- third", text);
    }

    /// <summary>Issue 15: "FAILED: 4/5 expectations held" counted only what ran; the whole lab's expectations are the measure.</summary>
    [Fact]
    public void The_verdict_counts_every_expectation_of_the_lab_and_those_of_a_step_whose_action_failed_as_not_run()
    {
        var (reporter, output) = Plain();
        var scenario = Loading.ScenarioLoader.Load("""
            lab: four
            steps:
              - title: first
                expect: [ { ping: { from: host, to: 10.0.0.1 } } ]
              - title: second
                actions: [ { netns-add: n1 } ]
                expect: [ { ping: { from: host, to: 10.0.0.2 } }, { ping: { from: host, to: 10.0.0.3 } } ]
              - title: third
                expect: [ { ping: { from: host, to: 10.0.0.4 } } ]
            """, "lab.yaml");
        reporter.LabStarting(scenario, new Engine.LabSession("abc123", true, scenario.Uplink));
        reporter.StepStarting(scenario.Steps[0], 0, 3);
        var ping = scenario.Steps[0].Expectations[0];
        reporter.ExpectationFinished(ping, new Engine.ExpectationResult(true, ping.Describe(), "1 sent, 1 received", 1, TimeSpan.Zero));
        reporter.StepFinished(scenario.Steps[0], true);
        reporter.StepStarting(scenario.Steps[1], 1, 3);
        reporter.ActionFinished(scenario.Steps[1].Actions[0], new Engine.ActionOutcome(Engine.ActionStatus.Failed, "File exists"));
        reporter.StepFinished(scenario.Steps[1], false);
        reporter.LabFinished(new Engine.LabResult("abc123", Engine.LabOutcome.Failed, "second", ["lab.yaml:7:19: netns-add failed: File exists"],
            new Engine.TeardownReport(1, [], []), TimeSpan.FromSeconds(2)));

        var text = output.ToString();
        Assert.Contains("FAILED: 1/4 expectations held, 3 not run in 2.0s\n", text);
        Assert.Contains("not run (1 step):\n  - third", text);
    }

    private static (ConsoleReporter Reporter, StringWriter Output) Plain(Engine.StepSelection? selection = null)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        console.Profile.Width = 1000;
        return (new ConsoleReporter(console, verbose: false, selection: selection), output);
    }

    private static readonly Model.Scenario Three = Loading.ScenarioLoader.Load("""
        lab: three
        steps:
          - title: "1.1 first"
            actions: [ { netns-add: n1 } ]
            expect: [ { ping: { from: host, to: 10.0.0.1 } } ]
          - title: "Between sections"
            expect: [ { ping: { from: host, to: 10.0.0.2 } } ]
          - title: "2.1 third"
            text: The third step.
            expect: [ { ping: { from: host, to: 10.0.0.3 } } ]
        """, "lab.yaml");

    private static void Run(ConsoleReporter reporter, int steps, int failAt = -1, string? stoppedEarly = null)
    {
        reporter.LabStarting(Three, new Engine.LabSession("abc123", true, Three.Uplink));
        for (var i = 0; i < steps; i++)
        {
            var step = Three.Steps[i];
            reporter.StepStarting(step, i, 3);
            foreach (var a in step.Actions)
            {
                reporter.CommandRan(new CommandEvent(CommandPurpose.Action, ["ip", "netns", "add", "lr-abc123-n1"], new CommandOutcome(0, "", "", TimeSpan.Zero)));
                reporter.ActionFinished(a, new Engine.ActionOutcome(Engine.ActionStatus.Done));
            }
            var ping = step.Expectations[0];
            reporter.ExpectationFinished(ping, new Engine.ExpectationResult(i != failAt, ping.Describe(), i != failAt ? "1 sent, 1 received" : "1 sent, 0 received", 1, TimeSpan.Zero));
            reporter.StepFinished(step, i != failAt);
        }
        reporter.LabFinished(new Engine.LabResult("abc123", failAt >= 0 ? Engine.LabOutcome.Failed : Engine.LabOutcome.Passed, failAt >= 0 ? Three.Steps[failAt].Title : null,
            failAt >= 0 ? ["lab.yaml:9:17: expected ..."] : [], new Engine.TeardownReport(1, [], []), TimeSpan.FromSeconds(1)) { StoppedEarly = stoppedEarly });
    }

    [Fact]
    public void A_step_is_headed_with_its_own_number_and_its_position_apart()
    {
        var (reporter, output) = Plain();

        Run(reporter, 3);

        var text = output.ToString();
        Assert.Contains("Step 1.1 (1 of 3): first\n", text);
        Assert.Contains("Step 2 of 3: Between sections\n", text);
        Assert.Contains("Step 2.1 (3 of 3): third\n  The third step.\n", text);
        Assert.DoesNotContain("1/3", text);
    }

    [Fact]
    public void Steps_before_from_are_one_line_each_without_their_commands()
    {
        var (reporter, output) = Plain(new Engine.StepSelection(2, null));

        Run(reporter, 3);

        var text = output.ToString();
        Assert.Contains("✓ Step 1.1 (1 of 3): first (1 check)\n✓ Step 2 of 3: Between sections (1 check)\n\nStep 2.1 (3 of 3): third\n", text);
        Assert.DoesNotContain("$ ip netns add", text);
        Assert.Contains("PASSED: 3/3 expectations held", text);
    }

    [Fact]
    public void A_collapsed_step_that_fails_shows_its_failure_under_its_line()
    {
        var (reporter, output) = Plain(new Engine.StepSelection(2, null));

        Run(reporter, 2, failAt: 1);

        var text = output.ToString();
        Assert.Contains("✗ Step 2 of 3: Between sections (1 check)\n  ✗ ping from host to 10.0.0.2 succeeds (lab.yaml:7:", text);
        Assert.Contains("      observed: 1 sent, 0 received", text);
        Assert.Contains("FAILED: 1/3 expectations held, 1 not run", text);
    }

    [Fact]
    public void A_run_ended_by_until_passes_and_says_where_it_ended_and_what_it_did_not_run()
    {
        var (reporter, output) = Plain();

        Run(reporter, 1, stoppedEarly: "ended after step 1.1 (--until)");

        var text = output.ToString();
        Assert.Contains("PASSED: 1/3 expectations held, 2 not run in 1.0s; the run ended after step 1.1 (--until)", text);
        Assert.Contains("not run (2 steps, as asked):\n  - Between sections\n  - 2.1 third", text);
    }
}
