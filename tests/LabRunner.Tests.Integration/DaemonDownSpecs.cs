using LabRunner.Journal;
using LabRunner.Reliability;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// A runtime daemon that is down cannot say whether a container is gone: teardown and `clean` never take "cannot
/// tell" for "gone". A run is killed half-way, then its daemon (the test's own containerd or dockerd) is killed:
/// `clean` exits 4 naming the fix and keeps the journal; once the daemon is back, `clean` leaves nothing.
/// </summary>
public sealed class DaemonDownSpecs
{
    private const int HalfWay = 20;

    [Theory]
    [InlineData("containerd")]
    [InlineData("docker")]
    public async Task With_the_daemon_down_clean_says_it_cannot_tell_and_after_a_restart_leaves_nothing(string runtime)
    {
        Root.Require(runtime);
        var ct = TestContext.Current.CancellationToken;
        var state = Directory.CreateTempSubdirectory("lr-daemon-state-").FullName;
        await using var daemon = new PrivateDaemon();
        try
        {
            await daemon.StartContainerdAsync(ct);
            if (runtime == "docker") await daemon.StartDockerdAsync(ct);
            var before = HostSnapshot.Take();
            var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/article.yaml"), "--runtime", runtime, "--state-dir", state],
                new Dictionary<string, string?>(daemon.Environment)
                {
                    ["LABRUNNER_FAULT_AFTER_ACTION"] = HalfWay.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["LABRUNNER_FAULT_SIGNAL"] = "KILL",
                }, ct: ct);
            Assert.True(run.ExitCode == 137, run.ToString());
            Assert.NotEmpty(daemon.Containers(runtime));

            if (runtime == "docker") daemon.KillDockerd(); else daemon.KillContainerd();
            var down = await LabCli.RunAsync(["clean", "--state-dir", state], daemon.Environment, ct: ct);

            Assert.True(down.ExitCode == 4, down.ToString());
            Assert.True(down.Stdout.Contains("cannot tell whether", StringComparison.Ordinal) && down.Stdout.Contains($"start {runtime}, then run `labrunner clean`", StringComparison.Ordinal)
                        && !down.Stdout.Contains("nothing of lab", StringComparison.Ordinal), down.ToString());
            Assert.Single(LabJournal.Directories(state)); // kept for the next try

            if (runtime == "docker") await daemon.StartDockerdAsync(ct); else await daemon.StartContainerdAsync(ct);
            var up = await LabCli.RunAsync(["clean", "--state-dir", state], daemon.Environment, ct: ct);

            Assert.True(up.ExitCode == 0, up.ToString());
            Assert.Contains("nothing of lab", up.Stdout);
            Assert.Empty(daemon.Containers(runtime));
            Assert.Empty(Directory.GetFileSystemEntries(state));
            Assert.Empty(before.Diff(HostSnapshot.Take()));
        }
        finally
        {
            await LabCli.RunAsync(["clean", "--state-dir", state], daemon.Environment, ct: CancellationToken.None);
            Directory.Delete(state, recursive: true);
        }
    }
}
