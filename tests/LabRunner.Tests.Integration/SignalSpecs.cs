using LabRunner.Platform;
using LabRunner.Reliability;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// How a real session ends (issue 9): a terminal closed (SIGHUP), Ctrl-C at a --pause prompt, Ctrl-C sent by a terminal
/// to the whole process group (twice, three times), and what children inherit. Each run has a state directory of its
/// own, and each compares a host snapshot before and after.
/// </summary>
public sealed class SignalSpecs
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    private static string Article => LabCli.Scenario("article/article.yaml");

    private static string StateDir() => Path.Combine(Path.GetTempPath(), $"lr-signal-test-{Guid.NewGuid():N}"[..27]);

    private static HostSnapshot Snapshot(string stateDir) => HostSnapshot.Take(new SnapshotOptions { StateRoots = [stateDir] });

    private static void AssertNothingLeft(HostSnapshot before, string stateDir, string? labId, string output)
    {
        var labs = labId is { } id ? new HashSet<string> { id } : [];
        Assert.True(before.Diff(Snapshot(stateDir), labs) is { Count: 0 } diff, $"left: {string.Join("; ", before.Diff(Snapshot(stateDir), labs))}\n{output}");
        Assert.False(Directory.Exists(stateDir) && Directory.EnumerateFileSystemEntries(stateDir).Any(), $"a journal is left in {stateDir}");
        LabProcess.DeleteIfEmpty(stateDir);
    }

    /// <summary>Closing the terminal window (an SSH drop, tmux kill-session): SIGHUP, and the console is gone.</summary>
    [Fact]
    public async Task A_terminal_hangup_half_way_tears_down_and_exits_129()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var stateDir = StateDir();
        var before = Snapshot(stateDir);

        await using var run = WatchedRun.Start(["run", Article, "--state-dir", stateDir], new WatchOptions { Terminal = true });
        await run.WaitForAsync("Step 2.3 (", Long, ct); // containers and a veth into one exist by then
        var id = run.LabId;
        run.HangUp();
        var result = await run.ExitAsync(Long, ct);

        Assert.True(result.ExitCode == 129, $"exit {result.ExitCode}\n{result.Stdout}");
        AssertNothingLeft(before, stateDir, id, result.Stdout);
    }

    [Fact]
    public async Task Ctrl_c_at_a_pause_prompt_tears_down_and_exits_130_within_a_second()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var stateDir = StateDir();
        var lab = TestFiles.Write("""
            lab: pause
            steps:
              - title: one namespace
                actions:
                  - netns-add: n1
              - title: another
                actions:
                  - netns-add: n2
            """);
        var before = Snapshot(stateDir);

        await using var run = WatchedRun.Start(["run", lab, "--pause", "--state-dir", stateDir], new WatchOptions { OwnGroup = true });
        await run.WaitForAsync("press Enter", Long, ct);
        run.Type("\n"); // step 1 runs: n1 exists
        await run.WaitForAsync(o => o.Split("press Enter").Length > 2, "the second prompt", Long, ct);
        var signalled = run.Now;
        run.SignalGroup(Processes.SIGINT); // stdin is a pipe nobody writes to: the prompt would wait forever
        var result = await run.ExitAsync(TimeSpan.FromSeconds(20), ct);
        var took = run.ExitedAt!.Value - signalled;

        Assert.True(result.ExitCode == 130, $"exit {result.ExitCode} after {took.TotalSeconds:0.00}s\n{result.Stdout}");
        Assert.True(took < TimeSpan.FromSeconds(1), $"exited {took.TotalSeconds:0.00}s after Ctrl-C\n{result.Stdout}");
        Assert.Contains("nothing of the lab is left", result.Stdout);
        AssertNothingLeft(before, stateDir, run.LabId, result.Stdout);
    }

    /// <summary>
    /// A terminal sends Ctrl-C to its whole foreground process group. The second one used to kill teardown's own
    /// `ctr` commands (7 of 9 runs left a container, exit 4); commands now run in sessions of their own.
    /// </summary>
    [Fact]
    public async Task Two_ctrl_cs_to_the_process_group_on_containerd_leave_nothing()
    {
        Root.Require("containerd");
        var ct = TestContext.Current.CancellationToken;
        var stateDir = StateDir();
        var before = Snapshot(stateDir);

        await using var run = WatchedRun.Start(["run", Article, "--runtime", "containerd", "--state-dir", stateDir], new WatchOptions { OwnGroup = true });
        await run.WaitForAsync("Step 3.2 (", Long, ct); // two containers by then
        run.SignalGroup(Processes.SIGINT);
        await run.WaitForAsync("Teardown", Long, ct);
        run.SignalGroup(Processes.SIGINT);
        var result = await run.ExitAsync(Long, ct);

        Assert.True(result.ExitCode == 130, $"exit {result.ExitCode}\n{result.Stdout}");
        Assert.Contains("teardown is running", result.Stdout);
        Assert.Contains("nothing of the lab is left", result.Stdout);
        AssertNothingLeft(before, stateDir, run.LabId, result.Stdout);
    }

    /// <summary>The third Ctrl-C abandons teardown at once; the journal is kept, and `labrunner clean` removes the rest.</summary>
    [Fact]
    public async Task A_third_ctrl_c_exits_at_once_keeping_the_journal_for_clean()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var stateDir = StateDir();
        var before = Snapshot(stateDir);

        await using var run = WatchedRun.Start(["run", Article, "--state-dir", stateDir], new WatchOptions { OwnGroup = true });
        await run.WaitForAsync("Step 2.3 (", Long, ct);
        run.SignalGroup(Processes.SIGINT);
        await run.WaitForAsync("Teardown", Long, ct);
        run.SignalGroup(Processes.SIGINT);
        await run.WaitForAsync("one more Ctrl-C", TimeSpan.FromSeconds(10), ct);
        var third = run.Now;
        run.SignalGroup(Processes.SIGINT);
        var result = await run.ExitAsync(TimeSpan.FromSeconds(20), ct);
        var took = run.ExitedAt!.Value - third;

        Assert.True(result.ExitCode == 130, $"exit {result.ExitCode}\n{result.Stdout}");
        Assert.True(took < TimeSpan.FromSeconds(1), $"exited {took.TotalSeconds:0.00}s after the third Ctrl-C\n{result.Stdout}");
        Assert.Contains("labrunner clean", result.Stdout);
        var clean = await LabCli.RunAsync(["clean", "--state-dir", stateDir], ct: ct);
        Assert.True(clean.ExitCode == 0, clean.ToString());
        AssertNothingLeft(before, stateDir, run.LabId, result.Stdout + clean.Stdout);
    }

    /// <summary>
    /// `flock FILE labrunner run …` (or a shell's `exec 9>lock`): the lock's descriptor must not reach the lab's
    /// children, or a container would hold the caller's lock for as long as it lives. Containers get /dev/null.
    /// </summary>
    [Fact]
    public async Task A_container_gets_dev_null_and_none_of_the_callers_descriptors()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var stateDir = StateDir();
        var lockFile = TestFiles.Write("", ".lock");
        var lab = TestFiles.Write("""
            lab: descriptors
            steps:
              - title: a container
                actions:
                  - container-run: c1
              - title: the end
                actions:
                  - netns-add: n1
            """);
        var before = Snapshot(stateDir);

        await using var run = WatchedRun.Start(["run", lab, "--pause", "--state-dir", stateDir], new WatchOptions { Prefix = ["flock", lockFile] });
        await run.WaitForAsync("press Enter", Long, ct);
        run.Type("\n");
        await run.WaitForAsync(o => o.Split("press Enter").Length > 2, "the second prompt", Long, ct);
        var container = Assert.Single(Processes.WithEnvironment(Runtimes.ProcessRuntime.LabelVariable, $"{run.LabId}/c1"));
        var fds = Directory.GetFileSystemEntries($"/proc/{container}/fd").ToDictionary(f => int.Parse(Path.GetFileName(f), System.Globalization.CultureInfo.InvariantCulture),
            f => new FileInfo(f).LinkTarget ?? "");
        run.Type("\n");
        var result = await run.ExitAsync(Long, ct);

        var listing = string.Join(", ", fds.OrderBy(f => f.Key).Select(f => $"{f.Key} -> {f.Value}"));
        Assert.DoesNotContain(fds.Values, t => t == lockFile);
        Assert.True(fds.Keys.Order().SequenceEqual([0, 1, 2]), $"container fds: {listing}");
        Assert.True(fds[0] == "/dev/null" && fds[1] == "/dev/null", $"container fds: {listing}");
        Assert.True(fds[2] == "/dev/null" || fds[2].StartsWith(stateDir, StringComparison.Ordinal), $"container fds: {listing}");
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Stdout}");
        AssertNothingLeft(before, stateDir, run.LabId, result.Stdout);
    }
}
