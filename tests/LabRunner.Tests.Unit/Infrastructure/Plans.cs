using System.Collections.Immutable;
using System.Text;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Runtimes;

namespace LabRunner.Tests.Unit.Infrastructure;

/// <summary>One thing that happened during a dry run, in order.</summary>
public abstract record PlanEvent;

public sealed record PlanCommand(CommandPurpose Purpose, ImmutableArray<string> Argv) : PlanEvent
{
    /// <summary>The command's standard input (a CNI plugin's config), or null.</summary>
    public string? Input { get; init; }

    public string Display => new CommandEvent(Purpose, Argv, new CommandOutcome(0, "", "", TimeSpan.Zero)) { Input = Input }.Display;
}

public sealed record PlanStep(Step Step) : PlanEvent;

public sealed record PlanAction(LabAction Action, ActionOutcome Outcome) : PlanEvent;

public sealed record PlanExpectation(Expectation Expectation, ExpectationResult Result) : PlanEvent;

public sealed record PlanTeardown(int Records) : PlanEvent;

/// <summary>
/// What `labrunner plan` shows: a scenario run by the real engine with a <see cref="DryRunCommandRunner"/> and the
/// process runtime in dry-run mode, so nothing is executed, started or written.
/// </summary>
public sealed class Plan
{
    public const string LabId = "test01";

    private Plan(Scenario scenario, bool sandbox, IReadOnlyList<PlanEvent> events, LabResult result)
    {
        Scenario = scenario;
        Sandbox = sandbox;
        Events = events;
        Result = result;
    }

    public Scenario Scenario { get; }

    public bool Sandbox { get; }

    public IReadOnlyList<PlanEvent> Events { get; }

    public LabResult Result { get; }

    public IEnumerable<PlanCommand> Commands => Events.OfType<PlanCommand>();

    public IReadOnlyList<string> CommandsFor(CommandPurpose purpose) =>
        [.. Commands.Where(c => c.Purpose == purpose).Select(c => c.Display)];

    /// <summary>
    /// Every undo command the journal held, run or settled (went with its namespace: <see cref="TeardownOrder"/>):
    /// what a kind journals to undo itself, whichever way the teardown then takes.
    /// </summary>
    public IReadOnlyList<string> UndoCommands =>
        [.. Result.Teardown.SettledCommands, .. CommandsFor(CommandPurpose.Teardown)];

    public static async Task<Plan> MakeAsync(Scenario scenario, string stateRoot, CancellationToken ct, bool sandbox = true)
    {
        var events = new List<PlanEvent>();
        void Collect(CommandEvent e) => events.Add(new PlanCommand(e.Purpose, e.Argv) { Input = e.Input });
        var runner = new DryRunCommandRunner(Collect);
        var engine = new LabEngine(runner, new ProcessRuntime(runner, Collect), new Recorder(events),
            new LabOptions { LabId = LabId, StateRoot = stateRoot, Sandbox = sandbox });
        var result = await engine.RunAsync(scenario, ct);
        return new Plan(scenario, sandbox, events, result);
    }

    /// <summary>The plan as a person reads it; what the golden files hold.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        text.Append($"# plan of {Scenario.Name}, lab id {LabId}, ").Append(Sandbox ? "sandbox" : "--host").Append('\n');
        text.Append("# $ action or setup, ? check (reads only), ! how the action must fail, = expectation (checked at run time)\n");
        if (Sandbox) text.Append("== sandbox setup\n");
        foreach (var e in Events)
        {
            switch (e)
            {
                case PlanStep s:
                    text.Append($"== step {s.Step.Title}\n");
                    break;
                case PlanCommand c:
                    text.Append(c.Purpose == CommandPurpose.Check ? "? " : "$ ").Append(c.Display).Append('\n');
                    break;
                case PlanAction { Outcome.Status: ActionStatus.FailedAsExpected } a:
                    text.Append($"! must fail with: {a.Outcome.Observed}\n");
                    break;
                case PlanExpectation x:
                    text.Append($"= {x.Result.Expected}\n");
                    break;
                case PlanTeardown t:
                    text.Append($"== teardown: {t.Records} undo records, newest first\n");
                    break;
            }
        }
        text.Append($"== outcome: {Result.Outcome}\n");
        return text.ToString();
    }

    private sealed class Recorder(List<PlanEvent> events) : LabObserver
    {
        public override void StepStarting(Step step, int index, int count) => events.Add(new PlanStep(step));

        public override void ActionFinished(LabAction action, ActionOutcome outcome) => events.Add(new PlanAction(action, outcome));

        public override void ExpectationFinished(Expectation expectation, ExpectationResult result) =>
            events.Add(new PlanExpectation(expectation, result));

        public override void TeardownStarting(int records) => events.Add(new PlanTeardown(records));
    }
}
