using LabRunner.Journal;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Platform;
using LabRunner.Reliability;
using LabRunner.Runtimes;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// Real CNI plugins (issue 13): every lab of scenarios/cni runs whole in its sandbox with containernetworking-plugins,
/// on every runtime, and leaves nothing (no link, no iptables chain, no host-local reservation, no state); a run killed
/// right after any of its <c>cni-add</c>s leaves a reservation that <c>labrunner clean ID</c> frees by replaying CNI DEL
/// from the journal; one killed while any plugin runs its ADD leaves that plugin running, and <c>clean</c> ends it before
/// DEL and leaves nothing; four runs at once never share a reservation.
/// </summary>
public sealed class CniSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Folder => Path.Combine(LabCli.RepoRoot, "scenarios", "cni");

    private static IEnumerable<string> Labs => Directory.EnumerateFiles(Folder, "*.yaml").Select(f => Path.GetFileName(f)!).Order();

    /// <summary>Every lab of scenarios/cni on every runtime.</summary>
    public static TheoryData<string, string> LabsOnRuntimes()
    {
        var data = new TheoryData<string, string>();
        foreach (var lab in Labs)
            foreach (var runtime in ContainerRuntimes.Names)
                data.Add(lab, runtime);
        return data;
    }

    /// <summary>Every cni-add of every lab, as the number of the action after which the run kills itself (1-based, the lab's order).</summary>
    public static TheoryData<string, int> CniActions()
    {
        var data = new TheoryData<string, int>();
        foreach (var lab in Labs)
            foreach (var (action, number) in ScenarioLoader.LoadFile(Path.Combine(Folder, lab)).AllActions.Select((a, i) => (a, i + 1)))
                if (action is CniAdd)
                    data.Add(lab, number);
        return data;
    }

    /// <summary>
    /// Every plugin of every cni-add: the lab, the action's number, the plugin's type, and how long the plugin holds back
    /// after the kill: 0 (it goes on at once, an orphan finishing its ADD) or long enough that `clean` meets it running.
    /// </summary>
    public static TheoryData<string, int, string, int> CniPluginsWhileRunning()
    {
        var data = new TheoryData<string, int, string, int>();
        foreach (var lab in Labs)
            foreach (var (action, number) in ScenarioLoader.LoadFile(Path.Combine(Folder, lab)).AllActions.Select((a, i) => (a, i + 1)))
                if (action is CniAdd add)
                    foreach (var type in Cni.Plugins(System.Text.Json.Nodes.JsonNode.Parse(add.Network)!.AsObject()).Select(p => (string)p["type"]!).Distinct())
                        foreach (var hold in new[] { 0, 60 })
                            data.Add(lab, number, type, hold);
        return data;
    }

    /// <summary>Every file and directory under the state root (journals, CNI results, host-local reservations).</summary>
    private static IReadOnlyList<string> Left(string state) => [.. Directory.EnumerateFileSystemEntries(state, "*", SearchOption.AllDirectories)];

    [Theory]
    [MemberData(nameof(LabsOnRuntimes))]
    public async Task A_CNI_lab_passes_on_each_runtime_and_leaves_nothing_not_even_a_reservation(string lab, string runtime)
    {
        Root.Require(runtime);
        var state = Directory.CreateTempSubdirectory("lr-cni-state-").FullName;
        try
        {
            var before = HostSnapshot.Take();

            var run = await LabCli.RunAsync(["run", Path.Combine(Folder, lab), "--runtime", runtime, "--state-dir", state, "--verbose"], ct: Ct);

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("CNI_COMMAND=ADD", run.Stdout);
            Assert.Contains("CNI_COMMAND=DEL", run.Stdout); // teardown ran DEL (and verified no reservation is left: exit 4 otherwise)
            Assert.Empty(before.Diff(HostSnapshot.Take()));
            Assert.Empty(Left(state)); // the lab's dataDir and result cache went with its state directory
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(CniActions))]
    public async Task After_kill_9_right_after_a_cni_add_clean_ID_frees_the_reservation_with_DEL_and_leaves_nothing(string lab, int action)
    {
        Root.Require();
        var state = Directory.CreateTempSubdirectory("lr-cni-state-").FullName;
        try
        {
            var before = HostSnapshot.Take();

            var run = await LabCli.RunAsync(["run", Path.Combine(Folder, lab), "--state-dir", state],
                new Dictionary<string, string?> { ["LABRUNNER_FAULT_AFTER_ACTION"] = $"{action}", ["LABRUNNER_FAULT_SIGNAL"] = "KILL" }, ct: Ct);

            Assert.True(run.ExitCode == 137, run.ToString());
            var journal = Assert.Single(LabJournal.Directories(state));
            var id = Path.GetFileName(journal);
            // host-local reserved an address (a file named as it) in the lab's dataDir, and the ADD's result is cached.
            var reservations = Directory.EnumerateFiles(Path.Combine(journal, "cni", "networks"), "*", SearchOption.AllDirectories)
                .Where(f => System.Net.IPAddress.TryParse(Path.GetFileName(f), out _)).ToList();
            Assert.True(reservations.Count > 0, $"host-local reserved nothing: {string.Join(", ", Left(state))}");
            Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(journal, "cni", "results")));
            Assert.NotEmpty(before.Diff(HostSnapshot.Take())); // the crash really left things

            var clean = await LabCli.RunAsync(["clean", id, "--state-dir", state, "--verbose"], ct: Ct);

            Assert.True(clean.ExitCode == 0, clean.ToString());
            Assert.Contains("CNI_COMMAND=DEL", clean.Stdout); // replayed from the journal in a new process, with the cached result
            Assert.Contains($"nothing of lab {id}", clean.Stdout);
            Assert.Empty(before.Diff(HostSnapshot.Take()));
            Assert.Empty(Left(state));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(CniPluginsWhileRunning))]
    public async Task After_kill_9_while_a_plugin_runs_its_ADD_clean_ID_ends_the_plugin_and_leaves_nothing(string lab, int action, string plugin, int hold)
    {
        Root.Require();
        var state = Directory.CreateTempSubdirectory("lr-cni-state-").FullName;
        string? id = null;
        try
        {
            var before = HostSnapshot.Take();

            // The plugin's own process kills the run (so the plugin is surely running), then holds back, then does its ADD.
            var run = await LabCli.RunAsync(["run", Path.Combine(Folder, lab), "--state-dir", state],
                new Dictionary<string, string?>
                {
                    ["LABRUNNER_FAULT_AFTER_ACTION"] = $"{action}", ["LABRUNNER_FAULT_SIGNAL"] = "KILL",
                    ["LABRUNNER_FAULT_WHILE_COMMAND"] = $"{Cni.PluginDir}/{plugin}", ["LABRUNNER_FAULT_HOLD_SECONDS"] = $"{hold}",
                }, ct: Ct);

            Assert.True(run.ExitCode == 137, run.ToString());
            id = Path.GetFileName(Assert.Single(LabJournal.Directories(state)));
            if (hold > 0) Assert.NotEmpty(PluginsOf(id)); // clean will meet the plugin in the middle of its ADD

            var clean = await LabCli.RunAsync(["clean", id, "--state-dir", state, "--verbose"], ct: Ct);

            Assert.True(clean.ExitCode == 0, clean.ToString());
            Assert.Contains($"nothing of lab {id}", clean.Stdout);
            Assert.Empty(PluginsOf(id)); // ended, so it cannot build or reserve after DEL
            Assert.Empty(before.Diff(HostSnapshot.Take()));
            Assert.Empty(Left(state));
        }
        finally
        {
            // A spec that failed must not leave a plugin to wake up later, nor its lab.
            if (id is not null)
                foreach (var (pid, _) in PluginsOf(id)) Processes.KillAndWait(pid, Processes.StartTime(pid), TimeSpan.FromSeconds(5));
            if (id is not null && LabJournal.Directories(state).Any()) await LabCli.RunAsync(["clean", id, "--state-dir", state], ct: CancellationToken.None);
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>The processes (plugins, their IPAM children, the fault's `sh`) that carry one of the lab's CNI_CONTAINERIDs.</summary>
    private static IReadOnlyList<(int Pid, string ContainerId)> PluginsOf(string labId) =>
        Cni.PluginsRunning(id => id.StartsWith($"labrunner-{labId}-", StringComparison.Ordinal));

    [Fact]
    public async Task Four_runs_of_the_CNI_lab_at_once_all_pass_with_their_own_reservations_and_leave_nothing()
    {
        Root.Require();

        // Each run's host-local hands out 172.16.100.101 in its own dataDir: the same address in four sandboxes, no collision.
        var result = await Concurrency.ParallelAsync(4, "process", LabCli.Scenario("cni/bridge-host-local.yaml"), Ct);

        Assert.True(result.Clean, string.Join("\n", result.Problems));
        Assert.Equal(4, result.Runs.Select(r => r.LabId).Distinct().Count());
    }
}
