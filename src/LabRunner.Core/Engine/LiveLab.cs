using System.Diagnostics;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Model;

namespace LabRunner.Engine;

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
    private readonly Runtimes.IContainerRuntime _runtime;
    private readonly ActionExecutor _executor;
    private readonly ExpectationEvaluator _evaluator;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly List<StepOutcome> _outcomes = [];
    private readonly List<string> _errors = [];
    private readonly FaultInjection? _fault;
    // container -> the container whose network namespace it uses (itself, or the one it joined), in start order
    private readonly List<(string Container, string Owner)> _netnsOwners = [];
    private readonly TopologyReader _topology;
    private LabResult? _result;
    private string? _stopped;
    private bool _interrupted;
    private int _actionsDone;

    /// <summary>Whether the lab works in the sandbox's far side of the uplink (then a place diagnoses and pictures look at).</summary>
    private readonly bool _usesWan;

    internal LiveLab(Scenario scenario, LabSession session, LabJournal journal, ICommandRunner runner,
        Runtimes.IContainerRuntime runtime, LabObserver observer, Func<string, Runtimes.IContainerRuntime> runtimes,
        FaultInjection? fault = null)
    {
        Scenario = scenario;
        Session = session;
        _usesWan = session.Sandbox && Kinds.HostModel.Play(scenario).UsesWan;
        _journal = journal;
        _fault = fault;
        _runner = runner;
        _observer = observer;
        _runtimes = runtimes;
        _runtime = runtime;
        var actions = fault is { WhileCommand: not null } ? new FaultInCommandRunner(runner, fault, () => _actionsDone + 1 == fault.AfterAction) : runner;
        _executor = new ActionExecutor(session, journal, actions, runtime);
        _evaluator = new ExpectationEvaluator(session, runner, runtime, journal, LabPlaces);
        _topology = new TopologyReader(session, runner);
    }

    /// <summary>Read the kernel's topology after each step (<see cref="LabOptions.ObserveTopology"/>).</summary>
    internal bool ObserveTopology { get; init; }

    /// <summary>The pause between a step's actions and its expectations (<see cref="LabOptions.BeforeExpectations"/>; only in <see cref="LabEngine.RunAsync"/>).</summary>
    internal Func<StepPause, CancellationToken, Task<StepGo>>? BeforeExpectations { get; set; }

    /// <summary>Why the run ended at a pause that quit (<see cref="LabOptions.QuitReason"/>).</summary>
    internal Func<StepPause, string> QuitReason { get; set; } = pause => $"ended at the pause before {pause.Where}";

    /// <summary>Keep each capture's pcap in its expectation's result (<see cref="LabOptions.KeepCaptures"/>).</summary>
    internal bool KeepCaptures
    {
        get => _evaluator.KeepCaptures;
        init => _evaluator.KeepCaptures = value;
    }

    public Scenario Scenario { get; }

    /// <summary>The host, the lab's namespaces (made or not yet) and its running containers.</summary>
    private IReadOnlyList<Place> LabPlaces() =>
        [Place.Host, .. _usesWan ? [Place.Wan] : Array.Empty<Place>(), .. Scenario.AllActions.Select(a => a.Declares).OfType<Place>().Where(p => p.Kind == PlaceKind.Netns).Distinct(),
         .. Session.Containers.Keys.Order(StringComparer.Ordinal).Select(Place.Container)];

    /// <summary>
    /// A ping from a place of this lab named <paramref name="from"/>, as a capture sends it (0.2 s apart): the traffic of
    /// another host's capture in a lab across hosts (<c>labrunner part</c>, asked by the controller). Exit 2 when the lab
    /// has no such place.
    /// </summary>
    public Task<CommandOutcome> PingFromAsync(string from, string to, int count, CancellationToken ct)
    {
        var place = LabPlaces().FirstOrDefault(p => p.Name == from);
        return place is null
            ? Task.FromResult(new CommandOutcome(2, "", $"this host's part has no place '{from}' (places: {string.Join(", ", LabPlaces().Select(p => p.Name))})", TimeSpan.Zero))
            : new PlaceCommands(Session, _runner, _runtime).PingAsync(place, Session.Expand(to), count, CommandPurpose.Observe, ct, "-i", "0.2");
    }

    /// <summary>The live names: lab id, physical namespaces, container PIDs.</summary>
    public LabSession Session { get; }

    internal LabJournal Journal => _journal;

    /// <summary>The steps run so far, in order.</summary>
    public IReadOnlyList<StepOutcome> Outcomes => _outcomes;

    /// <summary>The first step that failed, if any: a lab stops being trustworthy after it.</summary>
    public StepOutcome? FirstFailure => _outcomes.FirstOrDefault(o => !o.Passed);

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
        var count = Math.Max(Scenario.Steps.Length, index + 1);
        _journal.StepStarted(new JournalStep(index + 1, count, step.Number, step.Title));
        _observer.StepStarting(step, index, count);
        var failures = new List<string>();
        var checks = new List<CheckOutcome>();
        long? fullsBefore = null;
        try
        {
            if (!_runner.IsDryRun) await _evaluator.BeginStepAsync(step.Expectations, ct);
            if (!_runner.IsDryRun) PrestartContainers(step);
            fullsBefore = _runner.IsDryRun ? null : NeighbourBudget.ReadTableFulls();
            foreach (var action in step.Actions)
            {
                var result = await _executor.ExecuteAsync(action, ct);
                _observer.ActionFinished(action, result);
                if (result.Ok && action is { ExpectedError: null }) TrackNetns(action);
                InjectFault(++_actionsDone, ct);
                if (result.Ok) continue;
                failures.Add($"{action.Span}: {action.Keyword} {Describe(action, result)}");
                break;
            }
            if (failures.Count == 0 && BeforeExpectations is { } pauseHere)
            {
                var pause = new StepPause(this, step, index, count) { BeforeExpectations = true };
                if (await pauseHere(pause, ct) == StepGo.Quit)
                {
                    // Cut short like a step a signal stops (not passed, its expectations not run), but on purpose: not interrupted.
                    MarkStopped(QuitReason(pause));
                    throw new QuitAtPauseException();
                }
            }
            if (failures.Count == 0)
            {
                foreach (var group in AlongsideGroups(step.Expectations))
                {
                    var alongside = group.Count > 1 && !_runner.IsDryRun;
                    var results = alongside ? await _evaluator.EvaluateAlongsideAsync(group, ct) : null;
                    for (var i = 0; i < group.Count; i++)
                    {
                        var expectation = group[i];
                        var result = results?[i] ?? await CheckResultAsync(expectation, ct);
                        if (alongside) _observer.ExpectationFinished(expectation, result);
                        checks.Add(new CheckOutcome(expectation, result));
                        if (!result.Held)
                            failures.Add($"{expectation.Span}: expected {result.Expected}; observed {result.Observed}" +
                                         string.Concat(result.Diagnosis.Select(d => $"\n    why: {d}")));
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _interrupted = true;
            throw;
        }
        // Retries can hide an overflowing neighbour table (pings slow down, then pass): say so even when the step passed.
        if (fullsBefore is { } before && NeighbourBudget.ReadTableFulls() is { } after && after > before)
            _observer.Noticed(step, NeighbourBudget.Overflowed(after - before));
        var outcome = new StepOutcome(step, failures.Count == 0, failures, checks);
        if (ObserveTopology && !_runner.IsDryRun) _observer.TopologyObserved(step, await ObserveTopologyAsync(ct));
        _observer.StepFinished(step, outcome.Passed);
        _outcomes.Add(outcome);
        return outcome;
    }

    /// <summary>
    /// With --host, the host's links that are the lab's to draw: the uplink and every link the lab file puts on the
    /// host at some step (the machine's own links, eth0, docker0..., are not the lab's). A link only a `command` action
    /// makes on the host is not among them.
    /// </summary>
    private HashSet<string> HostLinks() => _hostLinks ??=
    [
        Session.Uplink.Name,
        .. Enumerable.Range(0, Scenario.Steps.Length + 1)
            .SelectMany(n => Reporting.LabTopology.Of(Scenario, n).Nodes.Where(node => node.Key == Kinds.HostModel.HostKey).SelectMany(node => node.Links))
            .Select(l => l.Name),
    ];

    private HashSet<string>? _hostLinks;

    /// <summary>Which containers share a network namespace, from the containers this lab started and stopped.</summary>
    private void TrackNetns(LabAction action)
    {
        switch (action)
        {
            case ContainerRun run:
                var owner = run.ShareNetnsWith is { } joined ? _netnsOwners.FirstOrDefault(o => o.Container == joined).Owner ?? joined : run.Name;
                _netnsOwners.RemoveAll(o => o.Container == run.Name);
                _netnsOwners.Add((run.Name, owner));
                break;
            case ContainerStop stop:
                _netnsOwners.RemoveAll(o => o.Container == stop.Name);
                break;
        }
    }

    /// <summary>
    /// The kernel's topology now: the host, each of the lab's netns that exists, and each network namespace of its
    /// running containers once (named as the model names it: "container busybox-1, busybox-3"). A failure to observe
    /// is a missing picture, never a failure of the lab; only a signal (<paramref name="ct"/>) stops it.
    /// </summary>
    private async Task<Reporting.TopologyObservation> ObserveTopologyAsync(CancellationToken ct)
    {
        var places = new List<(Place, string, string)> { (Place.Host, Kinds.HostModel.HostKey, "host") };
        places.AddRange(LabPlaces().Where(p => p.Kind == PlaceKind.Netns).Select(p => (p, "netns:" + p.Name, p.ToString())));
        var running = _netnsOwners.Where(o => Session.Containers.ContainsKey(o.Container)).ToList();
        foreach (var group in running.GroupBy(o => o.Owner))
        {
            var members = group.Select(o => o.Container).OrderBy(c => c == group.Key ? 0 : 1).ToList();
            places.Add((Place.Container(members[0]), "container:" + group.Key, "container " + string.Join(", ", members)));
        }
        try
        {
            return await _topology.ReadAsync(places, Session.Sandbox ? null : HostLinks().Contains, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The step is still reported as it ended; the run stops right after it.
            return Reporting.TopologyObservation.NotSeen("the run was stopped before the topology was observed");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Reporting.TopologyObservation.NotSeen($"the topology could not be observed: {e.Message}");
        }
    }

    /// <summary>
    /// Forks the step's containers when it begins (each journalled first), up to its first action that could change
    /// how a new container starts (<see cref="LabAction.LeavesNewContainersAlone"/>): they start at once instead of
    /// one after the other. Each is still reported, and waited for, when its own action runs; one whose action never
    /// runs (an earlier action failed) is removed by teardown like any other.
    /// </summary>
    private void PrestartContainers(Step step)
    {
        foreach (var action in step.Actions)
        {
            if (!action.LeavesNewContainersAlone) return;
            if (action is ContainerRun { ShareNetnsWith: null, ExpectedError: null } run && !Session.HasContainer(run.Name))
                _runtime.Prestart(run.Request(Session), _journal);
        }
    }

    /// <summary>Checks one expectation now, retrying until it holds or its Within runs out; reported like a step's.</summary>
    public async Task<ExpectationResult> CheckAsync(Expectation expectation, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_result is not null, this);
        return await CheckResultAsync(expectation, ct);
    }

    private async Task<ExpectationResult> CheckResultAsync(Expectation expectation, CancellationToken ct)
    {
        var result = _runner.IsDryRun
            ? new ExpectationResult(true, Session.Expand(expectation.Describe()), "checked at run time", 0, TimeSpan.Zero)
            : await _evaluator.EvaluateAsync(expectation, ct);
        _observer.ExpectationFinished(expectation, result);
        return result;
    }

    /// <summary>A step's expectations in order, adjacent ones observed alongside each other (<see cref="Expectation.ObservedAlongside"/>) grouped.</summary>
    internal static IEnumerable<IReadOnlyList<Expectation>> AlongsideGroups(IEnumerable<Expectation> expectations)
    {
        var group = new List<Expectation>();
        foreach (var expectation in expectations)
        {
            if (group.Count > 0 && !(expectation.ObservedAlongside && group[^1].ObservedAlongside))
            {
                yield return group;
                group = [];
            }
            group.Add(expectation);
        }
        if (group.Count > 0) yield return group;
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
        _result = new LabResult(Session.LabId, outcome, failure?.Step.Title, [.. _outcomes.SelectMany(o => o.Failures), .. _errors], teardown, _watch.Elapsed)
        {
            StoppedEarly = failure is null && !_interrupted ? _stopped : null,
        };
        _observer.LabFinished(_result);
        return _result;
    }

    public async ValueTask DisposeAsync() => await TearDownAsync();

    /// <summary>Stopped by a signal between steps (a step's own cancellation marks it already).</summary>
    internal void MarkInterrupted() => _interrupted = true;

    /// <summary>Ended on purpose before its last step (--until, q at a pause): <paramref name="why"/>, for the reports.</summary>
    internal void MarkStopped(string why) => _stopped = why;

    /// <summary>
    /// The state of every place of the lab now (a workshop's look around at a pause): for the host, each namespace the lab
    /// has made and not deleted, and each running container, its links and addresses (<c>ip -br</c>), routes and
    /// neighbours, read through the engine's runner as checks. Never in a plan: nothing is there to read.
    /// </summary>
    public async Task<IReadOnlyList<PlaceState>> ReadStateAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_result is not null, this);
        if (_runner.IsDryRun) throw new InvalidOperationException("a plan has no state to read: nothing was built");
        var made = _journal.PendingNewestFirst().Select(u => u.Resource).OfType<ResourceRef>()
            .Where(r => r.Kind == ResourceKind.Netns).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var places = LabPlaces().Where(p => p.Kind != PlaceKind.Netns || made.Contains(Session.PhysicalNetns(p.Name)));
        var states = new List<PlaceState>();
        foreach (var place in places)
        {
            var target = Session.Target(place);
            var readings = new List<PlaceReading>();
            foreach (var (what, args) in PlaceState.Commands)
            {
                var argv = target.Ip(args);
                var outcome = await _runner.RunAsync(argv, CommandPurpose.Check, ct);
                readings.Add(new PlaceReading(what, argv.Display(), outcome.Succeeded, outcome.Succeeded ? outcome.Stdout.TrimEnd() : outcome.Error.Trim()));
            }
            states.Add(new PlaceState(place.Name, place.Kind, readings));
        }
        return states;
    }

    /// <summary>A failure outside any expectation (an exception, an environment problem): the lab failed.</summary>
    internal void RecordError(string error) => _errors.Add(error);

    /// <summary>
    /// Test-only fault injection (docs/RELIABILITY.md): signal ourselves right after action k. A handled signal reaches
    /// its handler on another thread: we wait (up to 5 s) until it has stopped the run, as a signal that came at this
    /// moment would. Without the wait, a fast lab finished its last step and its teardown before the handler ran, and
    /// a SIGINT after its last action ended in exit 0 (the netlink driver made the article's tail that fast).
    /// </summary>
    private void InjectFault(int actionsDone, CancellationToken ct)
    {
        if (_fault is not { WhileCommand: null } fault || fault.AfterAction != actionsDone) return;
        Platform.Processes.Signal(Environment.ProcessId, fault.Signal);
        if (fault.Signal != Platform.Processes.SIGKILL) SpinWait.SpinUntil(() => ct.IsCancellationRequested, TimeSpan.FromSeconds(5));
    }

    private string Describe(LabAction action, ActionOutcome result) => result.Status switch
    {
        ActionStatus.DidNotFail => $"was expected to fail with \"{Session.Expand(action.ExpectedError!)}\" but succeeded",
        ActionStatus.FailedDifferently => $"was expected to fail with \"{Session.Expand(action.ExpectedError!)}\"; observed: {result.Observed}",
        _ => $"failed: {result.Observed}",
    };
}
