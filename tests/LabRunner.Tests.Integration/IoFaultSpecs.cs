using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// A full disk or an output that cannot be written is the machine's problem, not a crash: exit 3 with the cause, the lab
/// torn down, no journal or junk left. The state directory is a small tmpfs of the test's own.
/// </summary>
public sealed class IoFaultSpecs
{
    /// <summary>A tmpfs of <paramref name="pages"/> pages, <paramref name="free"/> of them left free by a filler file.</summary>
    private static async Task<string> SmallTmpfsAsync(int pages, int free, CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("lr-full-").FullName;
        Assert.Equal(0, await LabCli.ShAsync(["mount", "-t", "tmpfs", "-o", $"size={pages * 4096}", "tmpfs", dir], ct));
        await File.WriteAllBytesAsync(Path.Combine(dir, "filler"), new byte[(pages - free) * 4096], ct);
        return dir;
    }

    private static async Task RemoveAsync(string dir)
    {
        await LabCli.ShAsync(["umount", dir], CancellationToken.None);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_full_state_directory_is_an_environment_problem_with_nothing_built_and_nothing_left()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var state = await SmallTmpfsAsync(pages: 2, free: 0, ct);
        try
        {
            var before = HostSnapshot.Take();

            var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/01-veth-bridge.yaml"), "--state-dir", state], ct: ct);

            Assert.True(run.ExitCode == 3, run.ToString());
            Assert.Contains("cannot write the run's journal", run.Stderr);
            Assert.Contains("No space left on device", run.Stderr);
            Assert.DoesNotContain("   at ", run.Output); // no stack trace
            Assert.Equal(["filler"], Directory.GetFileSystemEntries(state).Select(Path.GetFileName));
            Assert.Empty(before.Diff(HostSnapshot.Take()));
        }
        finally
        {
            await RemoveAsync(state);
        }
    }

    [Fact]
    public async Task A_disk_that_fills_up_mid_run_stops_the_run_tears_it_down_and_exits_3()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var state = await SmallTmpfsAsync(pages: 3, free: 1, ct); // the header and a dozen records fit, the article's 34 do not
        try
        {
            var before = HostSnapshot.Take();

            var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/article.yaml"), "--state-dir", state], ct: ct);

            Assert.True(run.ExitCode == 3, run.ToString());
            Assert.Contains("No space left on device", run.Stderr);
            Assert.Contains("the action it was for was not done", run.Stderr);
            Assert.Equal(["filler"], Directory.GetFileSystemEntries(state).Select(Path.GetFileName));
            Assert.Empty(before.Diff(HostSnapshot.Take()));
        }
        finally
        {
            await RemoveAsync(state);
        }
    }

    [Fact]
    public async Task Standard_output_on_a_full_device_stops_the_run_tears_it_down_and_exits_3()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var state = Directory.CreateTempSubdirectory("lr-devfull-").FullName;
        try
        {
            var before = HostSnapshot.Take();

            var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/01-veth-bridge.yaml"), "--state-dir", state], ct: ct,
                prefix: ["sh", "-c", "exec \"$@\" >/dev/full", "sh"]);

            Assert.True(run.ExitCode == 3, run.ToString());
            Assert.Contains("the run's output could not be written", run.Stderr);
            Assert.Contains("nothing of the lab is left", run.Stderr);
            Assert.Empty(Directory.GetFileSystemEntries(state));
            Assert.Empty(before.Diff(HostSnapshot.Take()));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }
}
