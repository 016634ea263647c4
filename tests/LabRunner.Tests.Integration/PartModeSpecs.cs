using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LabRunner.Reliability;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// `labrunner part` (issue 14) as its controller drives it, on the real kernel: the lab on stdin line 1, an `awaiting`
/// event before each step and before each step's expectations answered with `go`, `quit`, or the end of input. Always
/// --sandbox (nothing in this machine's own namespace), each run with a state directory of its own and a host snapshot
/// compared before and after.
/// </summary>
public sealed class PartModeSpecs
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    /// <summary>Step 2 is a host with nothing to do in that step: it still has both barriers.</summary>
    private const string Lab = """
        lab: part-spec
        steps:
          - title: "1.1 a namespace with lo up"
            actions:
              - netns-add: n1
              - link-up: { name: lo, in: n1 }
            expect:
              - ping: { from: n1, to: 127.0.0.1 }
          - title: "1.2 nothing for this host"
          - title: "1.3 another namespace"
            actions:
              - netns-add: n2
        """;

    private static string Line1 => Convert.ToBase64String(Encoding.UTF8.GetBytes(Lab)) + "\n";

    private static string StateDir() => Path.Combine(Path.GetTempPath(), $"lr-part-test-{Guid.NewGuid():N}"[..25]);

    /// <summary>A random lab id as a controller makes them: 6 hex digits, '-', the host's name.</summary>
    private static string PartId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)) + "-a";

    private static HostSnapshot Snapshot(string stateDir) => HostSnapshot.Take(new SnapshotOptions { StateRoots = [stateDir] });

    private static void AssertNothingLeft(HostSnapshot before, string stateDir, string id, string output)
    {
        // The snapshot tells lr-3f9a1c-a-n1 as lab 3f9a1c's (it knows 6-digit ids): count both as ours.
        var labs = new HashSet<string> { id, id[..6] };
        var diff = before.Diff(Snapshot(stateDir), labs);
        Assert.True(diff.Count == 0, $"left: {string.Join("; ", diff)}\n{output}");
        Assert.False(Directory.Exists(stateDir) && Directory.EnumerateFileSystemEntries(stateDir).Any(), $"a journal is left in {stateDir}");
        LabProcess.DeleteIfEmpty(stateDir);
    }

    private static List<JsonElement> Events(string stdout) =>
        [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    private static string Name(JsonElement e) => e.GetProperty("event").GetString()!;

    /// <summary>The run's events without its commands, as "event", "event step-position" or "awaiting before position".</summary>
    private static List<string> Outline(string stdout) =>
    [
        .. Events(stdout).Where(e => Name(e) != "command").Select(e => Name(e) switch
        {
            "awaiting" => $"awaiting {e.GetProperty("before").GetString()} {e.GetProperty("step").GetProperty("position").GetInt32()}",
            "step-started" or "step-finished" or "step-not-run" or "action-finished" or "expectation-finished" =>
                $"{Name(e)} {e.GetProperty("step").GetProperty("position").GetInt32()}",
            "result" => $"result {e.GetProperty("exitCode").GetInt32()}",
            var other => other,
        }),
    ];

    private static WatchedRun Start(string id, string stateDir)
    {
        var run = WatchedRun.Start(["part", "--sandbox", "--lab-id", id, "--state-dir", stateDir]);
        run.Type(Line1);
        return run;
    }

    /// <summary>Waits for the <paramref name="n"/>th awaiting event (from 1).</summary>
    private static Task BarrierAsync(WatchedRun run, int n, CancellationToken ct) =>
        run.WaitForAsync(o => o.Split("\"event\":\"awaiting\"").Length - 1 >= n, $"awaiting event {n}", Long, ct);

    [Fact]
    public async Task Driven_with_go_at_each_barrier_a_part_runs_every_step_two_barriers_each_and_tears_down()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var (stateDir, id) = (StateDir(), PartId());
        var before = Snapshot(stateDir);

        await using var run = Start(id, stateDir);
        for (var n = 1; n <= 6; n++)
        {
            await BarrierAsync(run, n, ct);
            run.Type("go\n");
        }
        var result = await run.ExitAsync(Long, ct);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
        [
            "lab-started", "sandbox-ready",
            "awaiting step 1", "step-started 1", "action-finished 1", "action-finished 1", "awaiting expectations 1", "expectation-finished 1", "step-finished 1",
            "awaiting step 2", "step-started 2", "awaiting expectations 2", "step-finished 2",
            "awaiting step 3", "step-started 3", "action-finished 3", "awaiting expectations 3", "step-finished 3",
            "teardown-started", "teardown-finished", "result 0",
        ], Outline(result.Stdout));
        var events = Events(result.Stdout);
        Assert.All(events, e => Assert.Equal(id, e.GetProperty("run").GetString()));
        Assert.Equal("<part>", events[0].GetProperty("file").GetString());
        Assert.Equal($"lr-{id}", events[0].GetProperty("host").GetString()); // --sandbox: a namespace of its own
        Assert.Contains(events, e => Name(e) == "command" && e.GetProperty("argv").EnumerateArray().Select(a => a.GetString()).SequenceEqual(["ip", "netns", "add", $"lr-{id}-n1"]));
        Assert.Contains("PASSED", result.Stderr); // the console's text goes to stderr
        AssertNothingLeft(before, stateDir, id, result.ToString());
    }

    [Fact]
    public async Task The_end_of_input_at_a_barrier_tears_down_at_once_and_exits_129()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var (stateDir, id) = (StateDir(), PartId());
        var before = Snapshot(stateDir);

        await using var run = Start(id, stateDir);
        await BarrierAsync(run, 1, ct);
        run.Type("go\n");
        await BarrierAsync(run, 2, ct); // before step 1's expectations: n1 exists
        Assert.True(File.Exists($"/var/run/netns/lr-{id}-n1"), run.ToString());
        run.EndInput();
        var result = await run.ExitAsync(Long, ct);

        Assert.True(result.ExitCode == 129, result.ToString());
        var events = Events(result.Stdout);
        Assert.True(events.Single(e => Name(e) == "step-finished").GetProperty("interrupted").GetBoolean());
        Assert.Equal(["the controller is gone (end of input)", "the controller is gone (end of input)"],
            events.Where(e => Name(e) == "step-not-run").Select(e => e.GetProperty("reason").GetString()));
        Assert.Equal("interrupted", events[^1].GetProperty("outcome").GetString());
        Assert.True(events[^1].GetProperty("clean").GetBoolean());
        AssertNothingLeft(before, stateDir, id, result.ToString());
    }

    [Fact]
    public async Task Quit_at_a_steps_barrier_tears_down_and_the_steps_left_are_not_run_at_the_controllers_request()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var (stateDir, id) = (StateDir(), PartId());
        var before = Snapshot(stateDir);

        await using var run = Start(id, stateDir);
        for (var n = 1; n <= 2; n++)
        {
            await BarrierAsync(run, n, ct);
            run.Type("go\n");
        }
        await BarrierAsync(run, 3, ct); // before step 2
        run.Type("quit\n");
        var result = await run.ExitAsync(Long, ct);

        Assert.True(result.ExitCode == 0, result.ToString()); // as --step's q: every step run held
        Assert.Equal(["step-not-run 2", "step-not-run 3"], Outline(result.Stdout).Where(o => o.StartsWith("step-not-run", StringComparison.Ordinal)));
        var events = Events(result.Stdout);
        Assert.All(events.Where(e => Name(e) == "step-not-run"), e => Assert.Equal("ended at the controller's request before step 1.2", e.GetProperty("reason").GetString()));
        Assert.Equal("ended at the controller's request before step 1.2", events[^1].GetProperty("stoppedEarly").GetString());
        AssertNothingLeft(before, stateDir, id, result.ToString());
    }

    [Theory]
    [InlineData("3F9A1C-a")]
    [InlineData("a.b")]
    [InlineData("3f9a1c_a")]
    public async Task A_lab_id_of_another_form_is_exit_2_with_one_error_event_and_nothing_read_or_run(string id)
    {
        var ct = TestContext.Current.CancellationToken;

        var result = await LabCli.RunAsync(["part", "--sandbox", "--lab-id", id, "--state-dir", StateDir()], stdin: Line1, ct: ct);

        Assert.True(result.ExitCode == 2, result.ToString());
        var error = Assert.Single(Events(result.Stdout));
        Assert.Equal("error", Name(error));
        Assert.Contains("1 to 32 characters of a-z, 0-9 and '-'", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_part_that_is_no_valid_lab_is_exit_2_told_at_part_line_col()
    {
        var ct = TestContext.Current.CancellationToken;
        var bad = Convert.ToBase64String(Encoding.UTF8.GetBytes("lab: x\nsteps:\n  - title: one\n    actions:\n      - netns-ad: n1\n"));

        var result = await LabCli.RunAsync(["part", "--sandbox", "--lab-id", PartId(), "--state-dir", StateDir()], stdin: bad + "\n", ct: ct);

        Assert.True(result.ExitCode == 2, result.ToString());
        var error = Assert.Single(Events(result.Stdout));
        Assert.Equal("<part>:5:9", error.GetProperty("errors")[0].GetProperty("source").GetString());
        Assert.Contains("<part>:5:9: error: unknown action 'netns-ad'", result.Stderr);
    }
}
