using LabRunner.Execution;
using LabRunner.Model;

namespace LabRunner.Engine;

/// <summary>
/// Everything a run reports, as events. Reporters (console, transcripts, JUnit) derive from this and
/// override what they need; the engine never writes to the console itself.
/// </summary>
public abstract class LabObserver
{
    public virtual void LabStarting(Scenario scenario, LabSession session) { }

    public virtual void SandboxReady(LabSession session) { }

    public virtual void StepStarting(Step step, int index, int count) { }

    public virtual void CommandRan(CommandEvent command) { }

    public virtual void ActionFinished(LabAction action, ActionOutcome outcome) { }

    public virtual void ExpectationFinished(Expectation expectation, ExpectationResult result) { }

    /// <summary>
    /// What the kernel held after the step, just before <see cref="StepFinished"/> (only with
    /// <see cref="LabOptions.ObserveTopology"/>, and never in a plan).
    /// </summary>
    public virtual void TopologyObserved(Step step, Reporting.TopologyObservation observation) { }

    /// <summary>
    /// Something the run saw that held no check back but explains a slow or flaky one (the neighbour table overflowed
    /// during the step): said once, with what to do.
    /// </summary>
    public virtual void Noticed(Step step, string message) { }

    public virtual void StepFinished(Step step, bool passed) { }

    public virtual void TeardownStarting(int records) { }

    public virtual void TeardownFinished(TeardownReport report) { }

    public virtual void LabFinished(LabResult result) { }
}

/// <summary>
/// Sends each event to several observers, and keeps their failures away from the lab: an observer that throws (a
/// console on a full device, a terminal that hung up) never stops the others, the run's commands or its teardown.
/// The first failure is kept in <see cref="Failure"/> and cancels <see cref="Failed"/>, so the engine can stop the
/// run, tear down, and say why (exit 3).
/// </summary>
public sealed class CompositeObserver(params LabObserver[] observers) : LabObserver
{
    private readonly CancellationTokenSource _failed = new();

    /// <summary>The first exception an observer threw, or null.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Cancelled when an observer first fails.</summary>
    public CancellationToken Failed => _failed.Token;

    private void Each(Action<LabObserver> send)
    {
        // One event at a time, whichever thread sends it (expectations observed alongside each other run commands at once).
        lock (_sending) EachUnlocked(send);
    }

    private readonly Lock _sending = new();

    private void EachUnlocked(Action<LabObserver> send)
    {
        foreach (var o in observers)
        {
            try
            {
                send(o);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                lock (_failed)
                {
                    if (Failure is not null) continue;
                    Failure = e;
                }
                _failed.Cancel();
            }
        }
    }

    public override void LabStarting(Scenario scenario, LabSession session) => Each(o => o.LabStarting(scenario, session));

    public override void SandboxReady(LabSession session) => Each(o => o.SandboxReady(session));

    public override void StepStarting(Step step, int index, int count) => Each(o => o.StepStarting(step, index, count));

    public override void CommandRan(CommandEvent command) => Each(o => o.CommandRan(command));

    public override void ActionFinished(LabAction action, ActionOutcome outcome) => Each(o => o.ActionFinished(action, outcome));

    public override void ExpectationFinished(Expectation expectation, ExpectationResult result) => Each(o => o.ExpectationFinished(expectation, result));

    public override void TopologyObserved(Step step, Reporting.TopologyObservation observation) => Each(o => o.TopologyObserved(step, observation));

    public override void Noticed(Step step, string message) => Each(o => o.Noticed(step, message));

    public override void StepFinished(Step step, bool passed) => Each(o => o.StepFinished(step, passed));

    public override void TeardownStarting(int records) => Each(o => o.TeardownStarting(records));

    public override void TeardownFinished(TeardownReport report) => Each(o => o.TeardownFinished(report));

    public override void LabFinished(LabResult result) => Each(o => o.LabFinished(result));
}
