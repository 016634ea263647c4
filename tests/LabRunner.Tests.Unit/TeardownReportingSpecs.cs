using System.Collections.Immutable;
using LabRunner.Cli.Output;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Reporting;
using LabRunner.Tests.Unit.Infrastructure;
using Spectre.Console;

namespace LabRunner.Tests.Unit;

/// <summary>
/// Teardown as a trainer reads it (issue 15): an undo whose object went first (a veth's peer deleted with it) and a
/// check after teardown that finds the thing gone are good news, said so, not shown as failed commands.
/// </summary>
public sealed class TeardownReportingSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Teardown_tells_an_undo_whose_object_was_gone_already_and_checks_what_is_gone_as_verifications()
    {
        var journal = LabJournal.InMemory(new JournalHeader("gone01", 1, 1, "lab.yaml", true, DateTimeOffset.UtcNow));
        journal.Append(new UndoCommand("delete link veth-1 in host", ["ip", "link", "delete", "dev", "veth-1"], ["Cannot find device"],
            new Verification(VerificationKind.Absent, ["ip", "link", "show", "dev", "veth-1"], null)));
        journal.Append(new UndoCommand("delete link veth-3 in host", ["ip", "link", "delete", "dev", "veth-3"], ["Cannot find device"], null));
        var runner = new RecordingRunner(argv => string.Join(' ', argv) switch
        {
            "ip link delete dev veth-1" => RecordingRunner.Failed(1, "Cannot find device \"veth-1\"\n"),
            "ip link show dev veth-1" => RecordingRunner.Failed(1, "Device \"veth-1\" does not exist.\n"),
            _ => RecordingRunner.Ok(),
        });

        var report = await new Teardown(runner, name => new FakeRuntime(name)).RunAsync(journal, Ct);

        Assert.True(report.Clean, string.Join("; ", report.Leftovers));
        Assert.Empty(report.Problems);
        Assert.Equal(["ip link delete dev veth-1"], report.AlreadyGone);
        Assert.Equal(CommandPurpose.Verify, runner.Commands.Single(c => c.Display == "ip link show dev veth-1").Purpose);
    }

    [Fact]
    public void The_console_and_the_transcript_say_gone_where_a_teardown_command_failed_only_because_its_object_went_first()
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output) });
        var reporter = new ConsoleReporter(console, verbose: true);
        var recorder = new RunRecorder();
        var scenario = Loading.ScenarioLoader.Load("lab: gone\nsteps:\n  - title: t\n    actions: [ { netns-add: n1 } ]\n", "lab.yaml");
        var session = new LabSession("gone02", true, scenario.Uplink);
        var observer = new CompositeObserver(reporter, recorder);
        CommandEvent Ran(CommandPurpose purpose, string line, int exit, string stderr = "") =>
            new(purpose, [.. line.Split(' ')], new CommandOutcome(exit, "", stderr, TimeSpan.Zero));

        observer.LabStarting(scenario, session);
        observer.TeardownStarting(2);
        observer.CommandRan(Ran(CommandPurpose.Teardown, "ip link delete dev veth-1", 1, "Cannot find device \"veth-1\""));
        observer.CommandRan(Ran(CommandPurpose.Teardown, "ip netns delete lr-gone02-n1", 0));
        observer.CommandRan(Ran(CommandPurpose.Verify, "ip link show dev veth-1", 1, "Device \"veth-1\" does not exist."));
        var teardown = new TeardownReport(2, [], []) { AlreadyGone = ["ip link delete dev veth-1"] };
        observer.TeardownFinished(teardown);
        observer.LabFinished(new LabResult("gone02", LabOutcome.Passed, null, [], teardown, TimeSpan.FromSeconds(1)));

        var text = output.ToString();
        Assert.Contains("$ ip link delete dev veth-1 (already gone)", text);
        Assert.Contains("$ ip link show dev veth-1 (gone)", text);
        Assert.DoesNotContain("exit 1", text);
        var md = MarkdownTranscript.Create(recorder.Record);
        Assert.Contains("$ ip link delete dev veth-1   # already gone\n", md);
        Assert.DoesNotContain("# exit 1", md);
    }
}
