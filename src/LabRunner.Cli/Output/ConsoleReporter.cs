using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Model;
using Spectre.Console;

namespace LabRunner.Cli.Output;

/// <summary>
/// What a trainer sees: each step's title and narrative, the real commands it ran, each expectation with a
/// mark and, on failure, expected vs observed; then the teardown and the verdict. Plain text when not a TTY.
/// Steps before <see cref="StepSelection.From"/> (<c>--from</c>) are collapsed: one line each, with their failures.
/// </summary>
public sealed class ConsoleReporter(IAnsiConsole console, bool verbose, bool plan = false, StepSelection? selection = null) : LabObserver
{
    private readonly StepSelection _selection = selection ?? StepSelection.All;
    private int _expectations;
    private int _failedExpectations;
    private Scenario? _scenario;
    private int _stepsStarted;
    // Teardown's commands wait for its report, which says which failures only meant "gone already".
    private List<CommandEvent>? _teardown;
    // A collapsed step (--from): its one line, and what went wrong in it, shown once it has finished.
    private string? _collapsed;
    private int _collapsedChecks;
    private List<Action>? _collapsedFailures;

    public override void LabStarting(Scenario scenario, LabSession session)
    {
        _scenario = scenario;
        var where = session.Sandbox ? $"sandbox netns {session.HostNetns}" : "this host (--host)";
        console.MarkupLine($"[bold]{(plan ? "Plan for" : "Lab")} {E(scenario.Name)}[/] [grey](id {session.LabId}, host: {E(where)})[/]");
        if (scenario.Description is { } d) console.MarkupLine($"[grey]{E(d.Trim())}[/]");
        if (session.Sandbox) console.MarkupLine("[grey]sandbox:[/]");
    }

    public override void StepStarting(Step step, int index, int count)
    {
        _stepsStarted = Math.Max(_stepsStarted, index + 1);
        if (_selection.Collapsed(index))
        {
            if (index == 0) console.WriteLine();
            _collapsed = StepSelector.Display(step, index, count);
            _collapsedChecks = 0;
            _collapsedFailures = [];
            return;
        }
        console.WriteLine();
        console.MarkupLine($"[bold blue]{E(StepSelector.Display(step, index, count))}[/]");
        if (step.Text is { } text)
            foreach (var line in text.Trim().Split('\n'))
                console.MarkupLine($"  [italic grey]{E(line.TrimEnd())}[/]");
    }

    public override void StepFinished(Step step, bool passed) => FinishCollapsed(passed);

    private void FinishCollapsed(bool passed)
    {
        if (_collapsed is not { } line) return;
        var checks = _collapsedChecks == 0 ? "" : $" [grey]({_collapsedChecks} check{(_collapsedChecks == 1 ? "" : "s")})[/]";
        console.MarkupLine(passed ? $"[green]✓[/] [grey]{E(line)}[/]{checks}" : $"[red]✗ {E(line)}[/]{checks}");
        foreach (var show in _collapsedFailures ?? []) show();
        _collapsed = null;
        _collapsedFailures = null;
    }

    public override void CommandRan(CommandEvent command)
    {
        if (_collapsed is not null) return; // a collapsed step shows no commands
        var show = command.Purpose.ShownByDefault() || verbose || (plan && command.Purpose == CommandPurpose.Teardown);
        if (!show) return;
        if (_teardown is not null && !plan)
        {
            _teardown.Add(command);
            return;
        }
        Show(command);
    }

    private void Show(CommandEvent command, IReadOnlyList<string>? alreadyGone = null)
    {
        if (!command.Outcome.Succeeded && !plan && (command.Purpose == CommandPurpose.Verify || alreadyGone?.Contains(command.Display) == true))
        {
            // A failure that is the good news: the thing is gone (a check after teardown, an undo whose object went first).
            var gone = command.Purpose == CommandPurpose.Verify ? "gone" : "already gone";
            console.MarkupLine($"  [grey]$ {E(command.Display)} ({gone})[/]");
            return;
        }
        // An observing command (a capture's ping) may fail on purpose: the expectation around it says whether that is right.
        var mark = command.Outcome.Succeeded || command.Purpose == CommandPurpose.Observe ? "" : $" [yellow]→ exit {command.Outcome.ExitCode}: {E(command.Outcome.Error)}[/]";
        // Actions in the terminal's own colour: white would vanish on a light background (a projector's).
        var color = command.Purpose is CommandPurpose.Check or CommandPurpose.Verify ? "grey" : "default";
        // --verbose says which commands ran in-process (the netlink driver) rather than as a process.
        var driver = verbose && command.Driver is { } d ? $" [grey]({E(d)})[/]" : "";
        console.MarkupLine($"  [{color}]$ {E(command.Display)}[/]{driver}{(plan ? "" : mark)}");
    }

    public override void ActionFinished(LabAction action, ActionOutcome outcome)
    {
        if (_collapsedFailures is { } later)
        {
            if (!outcome.Ok) later.Add(() => ShowAction(action, outcome));
            return;
        }
        ShowAction(action, outcome);
    }

    private void ShowAction(LabAction action, ActionOutcome outcome)
    {
        switch (outcome.Status)
        {
            case ActionStatus.FailedAsExpected:
                console.MarkupLine($"  [green]✓[/] {action.Keyword} failed as expected: {E(outcome.Observed ?? "")}");
                break;
            case ActionStatus.Failed:
                console.MarkupLine($"  [red]✗ {action.Keyword} failed ({E(action.Span.ToString())}): {E(outcome.Observed ?? "")}[/]");
                break;
            case ActionStatus.DidNotFail:
                console.MarkupLine($"  [red]✗ {action.Keyword} should have failed with \"{E(action.ExpectedError ?? "")}\" but succeeded ({E(action.Span.ToString())})[/]");
                break;
            case ActionStatus.FailedDifferently:
                console.MarkupLine($"  [red]✗ {action.Keyword} failed differently ({E(action.Span.ToString())})[/]");
                console.MarkupLine($"      expected: {E(action.ExpectedError ?? "")}");
                console.MarkupLine($"      observed: {E(outcome.Observed ?? "")}");
                break;
        }
    }

    public override void ExpectationFinished(Expectation expectation, ExpectationResult result)
    {
        _expectations++;
        if (_collapsedFailures is { } later)
        {
            _collapsedChecks++;
            if (!result.Held && !plan)
            {
                _failedExpectations++;
                later.Add(() => ShowFailure(expectation, result));
            }
            return;
        }
        if (plan)
        {
            console.MarkupLine($"  [grey]check:[/] {E(result.Expected)}");
            return;
        }
        if (result.Held)
        {
            console.MarkupLine($"  [green]✓[/] {E(result.Expected)} [grey]({E(result.Observed)})[/]");
            // An expected failure explained (a why: asked for): its why-lines, as a failure's.
            foreach (var finding in result.Diagnosis) console.MarkupLine($"      [yellow]why:[/] {E(finding)}");
            return;
        }
        _failedExpectations++;
        ShowFailure(expectation, result);
    }

    private void ShowFailure(Expectation expectation, ExpectationResult result)
    {
        console.MarkupLine($"  [red]✗ {E(result.Expected)}[/] [grey]({E(expectation.Span.ToString())})[/]");
        console.MarkupLine($"      expected: {E(result.Expected)}");
        console.MarkupLine($"      observed: {E(result.Observed)} [grey](after {result.Attempts} tries in {result.Elapsed.TotalSeconds:0.0}s)[/]");
        foreach (var finding in result.Diagnosis) console.MarkupLine($"      [yellow]why:[/] {E(finding)}");
    }

    public override void Noticed(Step step, string message) => console.MarkupLine($"  [yellow]! {E(message)}[/]");

    public override void TeardownStarting(int records)
    {
        FinishCollapsed(passed: false); // a collapsed step cut short (a signal, an error) still gets its line
        _teardown = [];
        console.WriteLine();
        console.MarkupLine($"[bold]Teardown[/] [grey]({records} undo records: newest first, then the containers, then the namespaces)[/]");
    }

    public override void TeardownFinished(TeardownReport report)
    {
        foreach (var command in _teardown ?? []) Show(command, report.AlreadyGone);
        _teardown = null;
        if (report.Settled > 0) console.MarkupLine($"  [grey]{report.Settled} undo records went with their namespace (not run)[/]");
        foreach (var problem in report.Problems) console.MarkupLine($"  [yellow]! {E(problem)}[/]");
        if (plan) return;
        if (report.Clean) console.MarkupLine("  [green]✓[/] nothing of the lab is left on the host");
        foreach (var left in report.Leftovers) console.MarkupLine($"  [red]✗ left behind: {E(left)}[/]");
    }

    public override void LabFinished(LabResult result)
    {
        console.WriteLine();
        if (plan)
        {
            console.MarkupLine($"[grey]{_expectations} checks; nothing was run.[/]");
            return;
        }
        var verdict = result.ExitCode() switch
        {
            ExitCodes.Passed => "[bold green]PASSED[/]",
            ExitCodes.LeftBehind => "[bold red]LEFT SOMETHING BEHIND[/]",
            ExitCodes.ExpectationFailed => "[bold red]FAILED[/]",
            _ => "[bold yellow]INTERRUPTED[/] (teardown done)",
        };
        // Steps after a failure (or a signal, or --until) never ran: say which. Their expectations count in the whole, as
        // not run, never as held; so do those of a step whose action failed before its checks ("4/14 held, 9 not run").
        var notRun = _scenario?.Steps.Skip(_stepsStarted).ToList() ?? [];
        var total = Math.Max(_scenario?.Steps.Sum(s => s.Expectations.Length) ?? 0, _expectations);
        var notChecked = total - _expectations;
        console.MarkupLine($"{verdict}: {_expectations - _failedExpectations}/{total} expectations held" +
                           (notChecked > 0 ? $", {notChecked} not run" : "") + $" in {result.Elapsed.TotalSeconds:0.0}s" +
                           (result.StoppedEarly is { } why ? $"; the run {E(why)}" : ""));
        if (result.FailedStep is { } step) console.MarkupLine($"failed step: [bold]{E(step)}[/]");
        foreach (var failure in result.Failures) console.MarkupLine($"  {E(failure)}");
        if (notRun.Count > 0)
        {
            console.MarkupLine($"not run ({notRun.Count} step{(notRun.Count == 1 ? "" : "s")}{(result.StoppedEarly is null ? "" : ", as asked")}):");
            foreach (var s in notRun) console.MarkupLine($"  [grey]- {E(s.Title)}[/]");
        }
    }

    private static string E(string text) => Markup.Escape(text);
}
