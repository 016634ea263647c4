using LabRunner.Journal;
using LabRunner.Reliability;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// Real CNI plugins (issue 13): scenarios/cni run whole in their sandbox with containernetworking-plugins, and leave
/// nothing (no link, no iptables chain, no host-local reservation, no state); a run killed right after a
/// <c>cni-add</c> leaves a reservation that <c>labrunner clean</c> frees by replaying CNI DEL from the journal.
/// </summary>
public sealed class CniSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Lab => LabCli.Scenario("cni/bridge-host-local.yaml");

    /// <summary>Every file and directory under the state root (journals, CNI results, host-local reservations).</summary>
    private static IReadOnlyList<string> Left(string state) => [.. Directory.EnumerateFileSystemEntries(state, "*", SearchOption.AllDirectories)];

    [Theory]
    [MemberData(nameof(Root.Runtimes), MemberType = typeof(Root))]
    public async Task The_bridge_and_host_local_lab_passes_and_leaves_nothing_not_even_a_reservation(string runtime)
    {
        Root.Require(runtime);
        var state = Directory.CreateTempSubdirectory("lr-cni-state-").FullName;
        try
        {
            var before = HostSnapshot.Take();

            var run = await LabCli.RunAsync(["run", Lab, "--runtime", runtime, "--state-dir", state, "--verbose"], ct: Ct);

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

    [Fact]
    public async Task After_kill_9_right_after_a_cni_add_clean_frees_the_reservation_with_DEL_and_leaves_nothing()
    {
        Root.Require();
        var state = Directory.CreateTempSubdirectory("lr-cni-state-").FullName;
        try
        {
            var before = HostSnapshot.Take();

            // Action 1 starts busybox-1, action 2 is its cni-add.
            var run = await LabCli.RunAsync(["run", Lab, "--state-dir", state],
                new Dictionary<string, string?> { ["LABRUNNER_FAULT_AFTER_ACTION"] = "2", ["LABRUNNER_FAULT_SIGNAL"] = "KILL" }, ct: Ct);

            Assert.True(run.ExitCode == 137, run.ToString());
            var journal = Assert.Single(LabJournal.Directories(state));
            var reservation = Path.Combine(journal, "cni", "networks", "lab-net", "172.16.100.101");
            Assert.True(File.Exists(reservation), $"host-local reserved nothing: {string.Join(", ", Left(state))}");
            Assert.True(File.Exists(Path.Combine(journal, "cni", "results", $"lab-net-labrunner-{Path.GetFileName(journal)}-busybox-1-eth0")));
            Assert.NotEmpty(before.Diff(HostSnapshot.Take())); // the crash really left things

            var clean = await LabCli.RunAsync(["clean", "--state-dir", state, "--verbose"], ct: Ct);

            Assert.True(clean.ExitCode == 0, clean.ToString());
            Assert.Contains("CNI_COMMAND=DEL", clean.Stdout); // replayed from the journal in a new process, with the cached result
            Assert.Contains("nothing of lab", clean.Stdout);
            Assert.Empty(before.Diff(HostSnapshot.Take()));
            Assert.Empty(Left(state));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Four_runs_of_the_CNI_lab_at_once_all_pass_with_their_own_reservations_and_leave_nothing()
    {
        Root.Require();

        // Each run's host-local hands out 172.16.100.101 in its own dataDir: the same address in four sandboxes, no collision.
        var result = await Concurrency.ParallelAsync(4, "process", Lab, Ct);

        Assert.True(result.Clean, string.Join("\n", result.Problems));
        Assert.Equal(4, result.Runs.Select(r => r.LabId).Distinct().Count());
    }
}
