using LabRunner.Runtimes;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// A run killed half-way leaves its journal; `labrunner clean` replays it. SIGINT and SIGTERM tear down
/// gracefully. Faults are injected with the engine's test-only switch, right after a chosen action.
/// </summary>
public sealed class CrashSpecs
{
    // Action 20 of article.yaml is in section 2: containers, veths, a /var/run/netns symlink exist by then.
    private const int HalfWay = 20;

    private static Dictionary<string, string?> Fault(int afterAction, string signal) => new()
    {
        ["LABRUNNER_FAULT_AFTER_ACTION"] = afterAction.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["LABRUNNER_FAULT_SIGNAL"] = signal,
    };

    [Theory]
    [MemberData(nameof(Root.Runtimes), MemberType = typeof(Root))]
    public async Task After_kill_9_half_way_clean_leaves_the_machine_as_before(string runtime)
    {
        Root.Require(runtime);
        var ct = TestContext.Current.CancellationToken;
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/article.yaml"), "--runtime", runtime], Fault(HalfWay, "KILL"), ct: ct);

        Assert.True(run.ExitCode == 137, run.ToString());
        var leaked = before.Diff(HostSnapshot.Take());
        Assert.Contains(leaked, d => d.StartsWith("/var/run/netns entries: +", StringComparison.Ordinal)); // the crash really left things
        var containers = runtime switch { "process" => "labelled container processes", "containerd" => "containerd tasks", _ => "docker containers" };
        Assert.Contains(leaked, d => d.StartsWith($"{containers}: +", StringComparison.Ordinal));

        var clean = await LabCli.RunAsync(["clean"], ct: ct);

        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.Contains("nothing of lab", clean.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    public static TheoryData<string, string, int> Signals =>
        [.. from runtime in ContainerRuntimes.Names from s in new[] { ("INT", 130), ("TERM", 143) } select (runtime, s.Item1, s.Item2)];

    [Theory]
    [MemberData(nameof(Signals))]
    public async Task A_signal_half_way_tears_down_and_exits_128_plus_the_signal(string runtime, string signal, int exitCode)
    {
        Root.Require(runtime);
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/article.yaml"), "--runtime", runtime], Fault(HalfWay, signal), ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == exitCode, run.ToString());
        Assert.Contains("INTERRUPTED", run.Stdout);
        Assert.Contains("nothing of the lab is left", run.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task Clean_leaves_the_journal_of_a_live_run_alone()
    {
        Root.Require();
        var clean = await LabCli.RunAsync(["clean"], ct: TestContext.Current.CancellationToken);
        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.Contains("nothing to clean", clean.Stdout);
    }
}
