using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Model;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// What a step starts at once: its containers, forked when it begins up to the first action that could change how a
/// new one starts; and its pings that must be answered, observed alongside each other.
/// </summary>
public sealed class ConcurrentStartSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A runtime that records what it was asked, in order, and starts nothing.</summary>
    private sealed class Recording : IContainerRuntime
    {
        public List<string> Calls { get; } = [];
        private int _pid = 1000;

        public string Name => "process";
        public bool MayHoldContainers => true;
        public Task PrepareAsync(CancellationToken ct = default) => Task.CompletedTask;
        public Task SeedImageAsync(CancellationToken ct = default) => Task.CompletedTask;

        public void Prestart(ContainerStartRequest request, LabJournal journal) => Calls.Add($"prestart {request.Name}");

        public Task<ContainerHandle> StartAsync(ContainerStartRequest request, LabJournal journal, CancellationToken ct = default)
        {
            Calls.Add($"start {request.Name}");
            return Task.FromResult(new ContainerHandle(request.Name, request.Id, (++_pid).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        public Task<CommandOutcome> ExecAsync(ContainerHandle container, IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default) =>
            Task.FromResult(RecordingRunner.Ok());
        public Task StopAsync(ContainerHandle container, CancellationToken ct = default) => Task.CompletedTask;
        public Task<string?> RemoveAsync(string id, CancellationToken ct = default) => Task.FromResult<string?>(null);
        public Task<Presence> FindAsync(string id, CancellationToken ct = default) => Task.FromResult(Presence.Absent);
        public Task<LabContainers> ListLabAsync(string labId, CancellationToken ct = default) => Task.FromResult(new LabContainers([]));
    }

    [Fact]
    public async Task A_steps_containers_are_forked_when_it_begins_up_to_an_action_that_could_change_how_one_starts()
    {
        const string lab = """
            lab: prestart
            steps:
              - title: containers
                actions:
                  - container-run: c1
                  - veth-add: { name: v1, peer: e1, peer-in: c1 }
                  - container-run: c2
                  - sysctl: { key: net.ipv4.ip_forward, value: "1" }
                  - container-run: c3
                  - container-run: { name: c4, netns-of: c1 }
            """;
        using var state = new TempDirectory();
        var runtime = new Recording();
        var engine = new LabEngine(new RecordingRunner(), runtime, new CompositeObserver([]), new LabOptions { StateRoot = state.Path, LabId = "pre001" });

        await engine.RunAsync(Scenarios.Load(lab), Ct);

        // c3 comes after a sysctl (a new namespace may inherit from the host), c4 joins c1's namespace: neither ahead.
        Assert.Equal(["prestart c1", "prestart c2", "start c1", "start c2", "start c3", "start c4"], runtime.Calls);
    }

    [Fact]
    public void Adjacent_pings_that_must_be_answered_are_grouped_and_anything_else_stands_alone()
    {
        var scenario = Scenarios.Load("""
            lab: alongside
            steps:
              - title: pings
                actions:
                  - netns-add: n1
                expect:
                  - ping: { from: n1, to: 10.0.0.1 }
                  - ping: { from: n1, to: 10.0.0.2 }
                  - neighbor: { in: n1, ip: 10.0.0.1 }
                  - ping: { from: n1, to: 10.0.0.3 }
                  - ping: { from: n1, to: 10.0.0.4, succeeds: false }
                  - ping: { from: n1, to: 10.0.0.5 }
                  - ping: { from: n1, to: 10.0.0.6 }
            """);

        var groups = LiveLab.AlongsideGroups(scenario.Steps[0].Expectations).Select(g => g.Count).ToList();

        Assert.Equal([2, 1, 1, 1, 2], groups);
    }
}
