using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// A reporter that cannot write (stdout on /dev/full, a terminal gone) never costs the teardown: the other reporters
/// still hear every event, the run stops, is torn down, and the engine says why as an environment problem (exit 3).
/// </summary>
public sealed class ObserverFailureSpecs
{
    private sealed class Console(int failFromStep) : LabObserver
    {
        public override void StepStarting(Step step, int index, int count)
        {
            if (index + 1 >= failFromStep) throw new IOException("No space left on device");
        }

        public override void TeardownStarting(int records) => throw new IOException("No space left on device");
    }

    private sealed class Recorder : LabObserver
    {
        public List<string> Events { get; } = [];

        public override void StepStarting(Step step, int index, int count) => Events.Add($"step {index + 1}");

        public override void CommandRan(CommandEvent command)
        {
            if (command.Purpose == CommandPurpose.Teardown) Events.Add("teardown command");
        }

        public override void TeardownFinished(TeardownReport report) => Events.Add("teardown finished");
    }

    [Fact]
    public async Task A_reporter_that_fails_stops_the_run_and_the_teardown_still_runs_to_the_end()
    {
        using var state = new TempDirectory();
        var scenario = ScenarioLoader.LoadFile(Repo.Article("01-veth-bridge.yaml"));
        var recorder = new Recorder();
        var observers = new CompositeObserver(new Console(failFromStep: 2), recorder);
        var runner = new DryRunCommandRunner(observers.CommandRan);
        var engine = new LabEngine(runner, new ProcessRuntime(runner, observers.CommandRan), observers, new LabOptions { LabId = "obs001", StateRoot = state.Path });

        var problem = await Assert.ThrowsAsync<EnvironmentProblemException>(() => engine.RunAsync(scenario, TestContext.Current.CancellationToken));

        Assert.Contains("the run's output could not be written (No space left on device)", problem.Message);
        Assert.Equal(["step 1", "step 2"], recorder.Events.Where(e => e.StartsWith("step", StringComparison.Ordinal)));
        Assert.Contains("teardown command", recorder.Events);
        Assert.Equal("teardown finished", recorder.Events[^1]);
    }
}
