using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Runtimes;
using LabRunner.Testing;

namespace RegressionSuite;

/// <summary>The machine is exactly as before a whole lab was run and torn down (LabRunner.Testing's HostSnapshot).</summary>
public sealed class MachineSpecs
{
    [LabFact]
    public async Task A_lab_run_to_the_end_leaves_the_machine_as_it_found_it()
    {
        var ct = TestContext.Current.CancellationToken;
        var before = await HostSnapshot.TakeAsync(ct: ct);
        var scenario = Lab.Named("in-and-out")
            .Step("A namespace with a veth pair made by a command of the lab's own", s => s
                .Netns("n1")
                .Command(["ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1"], undo: ["ip", "link", "del", "d0"]).In("n1")
                .Expect.Link("d0", state: "DOWN").In("n1"))
            .Build();
        var runner = new CliWrapCommandRunner();
        var result = await new LabEngine(runner, ContainerRuntimes.Create("process", runner), new CompositeObserver(), new LabOptions())
            .RunAsync(scenario, ct);

        Assert.True(result.Outcome == LabOutcome.Passed, string.Join("\n", result.Failures));
        Assert.True(result.Teardown.Clean, string.Join("; ", result.Teardown.Leftovers));
        Assert.Empty(before.Diff(await HostSnapshot.TakeAsync(ct: ct)));
    }
}
