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
}
