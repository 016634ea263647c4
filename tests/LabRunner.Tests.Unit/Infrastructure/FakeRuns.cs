using LabRunner.Engine;
using LabRunner.Reporting;

namespace LabRunner.Tests.Unit.Infrastructure;

/// <summary>
/// A lab run by the real engine against a <see cref="RecordingRunner"/> that plays the kernel (answers what the specs
/// script) and an in-memory runtime: how an expectation observes, without root.
/// </summary>
public static class FakeRuns
{
    /// <summary>Runs <paramref name="lab"/> (netns places only) and returns the checks of its last step that ran.</summary>
    public static async Task<IReadOnlyList<CheckOutcome>> LastStepChecksAsync(string lab, RecordingRunner runner, string labId, CancellationToken ct)
    {
        using var state = new TempDirectory();
        var recorder = new RunRecorder();
        var engine = new LabEngine(runner, new FakeRuntime("process"), new CompositeObserver(recorder), new LabOptions { StateRoot = state.Path, LabId = labId });
        await engine.RunAsync(Scenarios.Load(lab), ct);
        return recorder.Record.Steps[^1].Checks;
    }
}
