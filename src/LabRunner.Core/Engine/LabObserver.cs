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

    public virtual void StepFinished(Step step, bool passed) { }

    public virtual void TeardownStarting(int records) { }

    public virtual void TeardownFinished(TeardownReport report) { }

    public virtual void LabFinished(LabResult result) { }
}

/// <summary>Sends each event to several observers.</summary>
public sealed class CompositeObserver(params LabObserver[] observers) : LabObserver
{
    public override void LabStarting(Scenario scenario, LabSession session) { foreach (var o in observers) o.LabStarting(scenario, session); }

    public override void SandboxReady(LabSession session) { foreach (var o in observers) o.SandboxReady(session); }

    public override void StepStarting(Step step, int index, int count) { foreach (var o in observers) o.StepStarting(step, index, count); }

    public override void CommandRan(CommandEvent command) { foreach (var o in observers) o.CommandRan(command); }

    public override void ActionFinished(LabAction action, ActionOutcome outcome) { foreach (var o in observers) o.ActionFinished(action, outcome); }

    public override void ExpectationFinished(Expectation expectation, ExpectationResult result) { foreach (var o in observers) o.ExpectationFinished(expectation, result); }

    public override void StepFinished(Step step, bool passed) { foreach (var o in observers) o.StepFinished(step, passed); }

    public override void TeardownStarting(int records) { foreach (var o in observers) o.TeardownStarting(records); }

    public override void TeardownFinished(TeardownReport report) { foreach (var o in observers) o.TeardownFinished(report); }

    public override void LabFinished(LabResult result) { foreach (var o in observers) o.LabFinished(result); }
}
