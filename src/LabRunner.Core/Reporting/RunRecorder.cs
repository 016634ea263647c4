using System.Collections.Immutable;
using System.Diagnostics;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Model;

namespace LabRunner.Reporting;

/// <summary>A command as a report shows it: its purpose, the argv as typed in a shell, and its exit code.</summary>
public sealed record RecordedCommand(CommandPurpose Purpose, string Display, int ExitCode);

/// <summary>
/// An action worth a line of its own: one that failed as the scenario said it must (the article's "File exists"),
/// or one that did not do what the scenario said (failed, or did not fail when it had to).
/// </summary>
public sealed record RecordedActionOutcome(LabAction Action, ActionOutcome Outcome)
{
    public bool Failed => !Outcome.Ok;
}

/// <summary>One step as it ran: its commands, its checks, and how long it took.</summary>
public sealed record RecordedStep(
    int Number,
    Step Step,
    bool Passed,
    TimeSpan Elapsed,
    ImmutableArray<RecordedCommand> Commands,
    ImmutableArray<CheckOutcome> Checks,
    ImmutableArray<RecordedActionOutcome> NotableActions)
{
    public IEnumerable<RecordedActionOutcome> ActionFailures => NotableActions.Where(a => a.Failed);

    /// <summary>What the kernel held after the step (<see cref="LabOptions.ObserveTopology"/>), or why it is not known; null when not observed.</summary>
    public TopologyObservation? Topology { get; init; }
}

/// <summary>
/// A whole run, for reports written after it (JUnit XML, Markdown transcript, HTML): the steps that ran (a failed step
/// ends a run, so later steps are absent), the sandbox's and the teardown's commands, and the result.
/// </summary>
public sealed record RunRecord(
    Scenario Scenario,
    string LabId,
    bool Sandbox,
    ImmutableArray<RecordedCommand> SetupCommands,
    ImmutableArray<RecordedStep> Steps,
    ImmutableArray<RecordedCommand> TeardownCommands,
    LabResult? Result,
    DateTimeOffset Started)
{
    /// <summary>Steps of the scenario that never ran (after a failed one, or an interruption).</summary>
    public IEnumerable<Step> NotRun => Scenario.Steps.Skip(Steps.Length);
}

/// <summary>
/// Listens to a run and keeps what reports need. Attach it beside the console reporter
/// (<see cref="CompositeObserver"/>); read <see cref="Record"/> once the lab has finished.
/// </summary>
public sealed class RunRecorder : LabObserver
{
    private readonly List<RecordedCommand> _setup = [];
    private readonly List<RecordedStep> _steps = [];
    private readonly List<RecordedCommand> _teardown = [];
    private readonly Stopwatch _stepWatch = new();
    private List<RecordedCommand> _commands;
    private List<CheckOutcome> _checks = [];
    private List<RecordedActionOutcome> _notable = [];
    private TopologyObservation? _topology;
    private Scenario? _scenario;
    private LabSession? _session;
    private LabResult? _result;
    private Step? _step;
    private int _stepNumber;
    private bool _stepOpen;
    private DateTimeOffset _started = DateTimeOffset.UtcNow;

    public RunRecorder() => _commands = _setup;

    public override void LabStarting(Scenario scenario, LabSession session)
    {
        _scenario = scenario;
        _session = session;
        _started = DateTimeOffset.UtcNow;
    }

    /// <summary>
    /// Commands run outside any step once the lab is up (a look at its state at a pause, a fixture's check between
    /// steps) belong to no step and to no report.
    /// </summary>
    public override void SandboxReady(LabSession session) => _commands = [];

    public override void StepStarting(Step step, int index, int count)
    {
        _step = step;
        _stepNumber = index + 1;
        _commands = [];
        _checks = [];
        _notable = [];
        _topology = null;
        _stepOpen = true;
        _stepWatch.Restart();
    }

    public override void CommandRan(CommandEvent command) =>
        _commands.Add(new RecordedCommand(command.Purpose, command.Display, command.Outcome.ExitCode));

    public override void ActionFinished(LabAction action, ActionOutcome outcome)
    {
        if (!outcome.Ok || outcome.Status == ActionStatus.FailedAsExpected) _notable.Add(new RecordedActionOutcome(action, outcome));
    }

    public override void ExpectationFinished(Expectation expectation, ExpectationResult result) => _checks.Add(new CheckOutcome(expectation, result));

    public override void TopologyObserved(Step step, TopologyObservation observation) => _topology = observation;

    public override void StepFinished(Step step, bool passed)
    {
        _stepOpen = false;
        _steps.Add(Current(step, passed));
        _commands = [];
    }

    private RecordedStep Current(Step step, bool passed) =>
        new(_stepNumber, step, passed, _stepWatch.Elapsed, [.. _commands], [.. _checks], [.. _notable]) { Topology = _topology };

    public override void TeardownStarting(int records)
    {
        // A step cut short (SIGINT, an error) never finishes: keep what it did, as not passed.
        if (_stepOpen && _step is not null) StepFinished(_step, passed: false);
        _commands = _teardown;
    }

    public override void LabFinished(LabResult result) => _result = result;

    /// <summary>What has been recorded so far; complete once <see cref="LabObserver.LabFinished"/> has been called.</summary>
    public RunRecord Record =>
        new(_scenario ?? throw new InvalidOperationException("the lab has not started: nothing was recorded"),
            _session?.LabId ?? "", _session?.Sandbox ?? true, [.. _setup], [.. _steps], [.. _teardown], _result, _started);
}
