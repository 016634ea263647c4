using System.Diagnostics;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Model;

namespace LabRunner.Engine;

public sealed partial class LabEngine
{
    /// <summary>
    /// Builds the lab's sandbox (or, with --host, checks the host) and returns the live lab without running any
    /// step and without tearing down: for test fixtures that build a lab once, assert against it many times,
    /// and tear it down at the end. Steps then run one at a time with <see cref="LiveLab.RunStepAsync"/>, with
    /// the same journal, events and checks as <see cref="RunAsync"/>; <see cref="LiveLab.DisposeAsync"/> tears
    /// down. If the sandbox cannot be built, what was built is torn down before the exception propagates.
    /// </summary>
    public async Task<LiveLab> StartAsync(Scenario scenario, CancellationToken ct = default)
    {
        var lab = await CreateAsync(scenario, ct);
        try
        {
            await BuildAsync(lab, ct);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Everything before the first change to the host: --host's name clash check, the runtime's daemon and image,
    /// then the journal (so that from here on every change has its undo on disk first).
    /// </summary>
    private async Task<LiveLab> CreateAsync(Scenario scenario, CancellationToken ct)
    {
        // In-process hosts (LabRunner.Xunit) too: descriptors they inherited are not for the lab's children.
        if (!runner.IsDryRun) Platform.Descriptors.CloseInheritedOnExec();
        // pcap filters are compiled by libpcap, so only here (not in the loader) can a bad one be found: still before any change.
        if (!runner.IsDryRun && await CheckCaptureFiltersAsync(scenario, ct) is { Length: > 0 } badFilters)
            throw new Loading.ScenarioInvalidException(badFilters);
        var session = new LabSession(options.LabId ?? NewLabId(), options.Sandbox, scenario.Uplink);
        // The runtime first: the --host preflight asks it whether the lab's container names are taken.
        if (!runner.IsDryRun && scenario.AllActions.Any(a => a is ContainerRun)) await runtime.PrepareAsync(ct);
        if (!options.Sandbox && !runner.IsDryRun) await PreflightHostModeAsync(scenario, session, ct);
        LabJournal journal;
        (session, journal) = ClaimJournal(session);
        return new LiveLab(scenario, session, journal, runner, runtime, observer, RuntimeNamed, options.Fault);
    }

    private async Task<System.Collections.Immutable.ImmutableArray<Loading.ScenarioError>> CheckCaptureFiltersAsync(Scenario scenario, CancellationToken ct)
    {
        try
        {
            return await Loading.CaptureFilters.CheckAsync(scenario, runner, ct: ct);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new EnvironmentProblemException("this lab captures packets, and tcpdump is not installed", "apt-get install -y tcpdump (or run ./run-lab.sh, which installs it)");
        }
    }

    private async Task BuildAsync(LiveLab lab, CancellationToken ct)
    {
        observer.LabStarting(lab.Scenario, lab.Session);
        if (options.Sandbox) await BuildSandboxAsync(lab.Session, lab.Journal, ct);
        observer.SandboxReady(lab.Session);
    }
}

/// <summary>One expectation as checked: what was expected, what was observed.</summary>
public sealed record CheckOutcome(Expectation Expectation, ExpectationResult Result);

/// <summary>
/// What one step did: passed, or the failures as "span: expected ...; observed ..." (as LabResult.Failures says
/// them); <see cref="Checks"/> holds every expectation checked, held or not.
/// </summary>
public sealed record StepOutcome(Step Step, bool Passed, IReadOnlyList<string> Failures, IReadOnlyList<CheckOutcome> Checks);

/// <summary>
/// A lab that is up: the sandbox is built, steps run on demand, and everything is torn down (from the journal)
/// when it is disposed. Made by <see cref="LabEngine.StartAsync"/>. Not thread-safe: one caller at a time.
/// </summary>
public sealed class LiveLab : IAsyncDisposable
{
    private readonly LabJournal _journal;
    private readonly ICommandRunner _runner;
    private readonly LabObserver _observer;
    private readonly Func<string, Runtimes.IContainerRuntime> _runtimes;
    private readonly ActionExecutor _executor;
    private readonly ExpectationEvaluator _evaluator;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly List<StepOutcome> _outcomes = [];
    private readonly List<string> _errors = [];
    private readonly FaultInjection? _fault;
    private LabResult? _result;
    private bool _interrupted;
    private int _actionsDone;

    internal LiveLab(Scenario scenario, LabSession session, LabJournal journal, ICommandRunner runner,
        Runtimes.IContainerRuntime runtime, LabObserver observer, Func<string, Runtimes.IContainerRuntime> runtimes,
        FaultInjection? fault = null)
    {
        Scenario = scenario;
        Session = session;
        _journal = journal;
        _fault = fault;
        _runner = runner;
        _observer = observer;
        _runtimes = runtimes;
        _executor = new ActionExecutor(session, journal, runner, runtime);
        _evaluator = new ExpectationEvaluator(session, runner, runtime, journal, LabPlaces);
    }

    public Scenario Scenario { get; }

    /// <summary>The host, the lab's namespaces (made or not yet) and its running containers.</summary>
    private IReadOnlyList<Place> LabPlaces() =>
        [Place.Host, .. Scenario.AllActions.OfType<NetnsAdd>().Select(a => Place.Netns(a.Name)).Distinct(),
         .. Session.Containers.Keys.Order(StringComparer.Ordinal).Select(Place.Container)];

    /// <summary>The live names: lab id, physical namespaces, container PIDs.</summary>
    public LabSession Session { get; }

    internal LabJournal Journal => _journal;

    /// <summary>The steps run so far, in order.</summary>
    public IReadOnlyList<StepOutcome> Outcomes => _outcomes;

    /// <summary>The first step that failed, if any: a lab stops being trustworthy after it.</summary>
    public StepOutcome? FirstFailure => _outcomes.FirstOrDefault(o => !o.Passed);

    /// <summary>The teardown's result once torn down, else null.</summary>
    public LabResult? Result => _result;

    /// <summary>
    /// Runs every step of the scenario not run yet, in order, stopping at the first that fails (as
    /// <see cref="LabEngine.RunAsync"/> does). Returns that failure, or null when every step passed.
    /// </summary>
    public async Task<StepOutcome?> RunStepsAsync(CancellationToken ct = default)
    {
        for (var i = _outcomes.Count; i < Scenario.Steps.Length; i++)
        {
            var outcome = await RunStepAsync(Scenario.Steps[i], ct);
            if (!outcome.Passed) return outcome;
        }
        return FirstFailure;
    }

    /// <summary>
    /// Runs one step: its actions (journaled first, undone at teardown), then its expectations. The step may be one
    /// of the scenario's or a new one built against it (e.g. with Lab.From(scenario)); names resolve the same way.
    /// </summary>
    public async Task<StepOutcome> RunStepAsync(Step step, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_result is not null, this);
        var index = _outcomes.Count;
        _observer.StepStarting(step, index, Math.Max(Scenario.Steps.Length, index + 1));
        var failures = new List<string>();
        var checks = new List<CheckOutcome>();
        try
        {
            foreach (var action in step.Actions)
            {
                var result = await _executor.ExecuteAsync(action, ct);
                _observer.ActionFinished(action, result);
                InjectFault(++_actionsDone);
                if (result.Ok) continue;
                failures.Add($"{action.Span}: {action.Keyword} {Describe(action, result)}");
                break;
            }
            if (failures.Count == 0)
            {
                foreach (var expectation in step.Expectations)
                {
                    var result = await CheckAsync(expectation, ct);
                    checks.Add(new CheckOutcome(expectation, result));
                    if (!result.Held)
                        failures.Add($"{expectation.Span}: expected {result.Expected}; observed {result.Observed}" +
                                     string.Concat(result.Diagnosis.Select(d => $"\n    why: {d}")));
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _interrupted = true;
            throw;
        }
        var outcome = new StepOutcome(step, failures.Count == 0, failures, checks);
        _observer.StepFinished(step, outcome.Passed);
        _outcomes.Add(outcome);
        return outcome;
    }

    /// <summary>Checks one expectation now, retrying until it holds or its Within runs out; reported like a step's.</summary>
    public async Task<ExpectationResult> CheckAsync(Expectation expectation, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_result is not null, this);
        var result = _runner.IsDryRun
            ? new ExpectationResult(true, Session.Expand(expectation.Describe()), "checked at run time", 0, TimeSpan.Zero)
            : await _evaluator.EvaluateAsync(expectation, ct);
        _observer.ExpectationFinished(expectation, result);
        return result;
    }

    /// <summary>Tears the lab down from its journal (newest first) and checks nothing is left. Idempotent.</summary>
    public async Task<LabResult> TearDownAsync()
    {
        if (_result is not null) return _result;
        _observer.TeardownStarting(_journal.PendingNewestFirst().Count);
        var teardown = await new Teardown(_runner, _runtimes).RunAsync(_journal, CancellationToken.None);
        _observer.TeardownFinished(teardown);
        if (teardown.Clean) _journal.Delete(); // otherwise keep it: `labrunner clean` can try again
        _journal.Dispose();
        var failure = FirstFailure;
        var outcome = _interrupted ? LabOutcome.Interrupted : failure is null && _errors.Count == 0 ? LabOutcome.Passed : LabOutcome.Failed;
        _result = new LabResult(Session.LabId, outcome, failure?.Step.Title, [.. _outcomes.SelectMany(o => o.Failures), .. _errors], teardown, _watch.Elapsed);
        _observer.LabFinished(_result);
        return _result;
    }

    public async ValueTask DisposeAsync() => await TearDownAsync();

    /// <summary>Stopped by a signal between steps (a step's own cancellation marks it already).</summary>
    internal void MarkInterrupted() => _interrupted = true;

    /// <summary>A failure outside any expectation (an exception, an environment problem): the lab failed.</summary>
    internal void RecordError(string error) => _errors.Add(error);

    /// <summary>Test-only fault injection (docs/RELIABILITY.md): signal ourselves right after action k.</summary>
    private void InjectFault(int actionsDone)
    {
        if (_fault is { } fault && fault.AfterAction == actionsDone)
            Platform.Processes.Signal(Environment.ProcessId, fault.Signal);
    }

    private string Describe(LabAction action, ActionOutcome result) => result.Status switch
    {
        ActionStatus.DidNotFail => $"was expected to fail with \"{Session.Expand(action.ExpectedError!)}\" but succeeded",
        ActionStatus.FailedDifferently => $"was expected to fail with \"{Session.Expand(action.ExpectedError!)}\"; observed: {result.Observed}",
        _ => $"failed: {result.Observed}",
    };
}
