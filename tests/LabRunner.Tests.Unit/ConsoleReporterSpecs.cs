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

    [Fact]
    public void After_a_failure_the_steps_not_run_are_listed_and_their_expectations_not_counted_as_held()
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
        Assert.Contains("FAILED: 0/1 expectations held (3 more in steps not run)", text);
        Assert.Contains("not run (2 steps):", text);
        Assert.Contains("- second", text);
        Assert.Contains("- third", text);
    }
}
