using System.Globalization;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Model;
using LabRunner.Platform;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `labrunner ls`, `exec` and `shell` read runs from their journals alone (issue 15): hand-written journals here, live
/// (this test's own process owns them) or dead (PID 0), of this version and of earlier ones. Nothing is run.
/// </summary>
public sealed class LabRunsSpecs
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static string Pid => Environment.ProcessId.ToString(CultureInfo.InvariantCulture);

    private static string StartTime => (Processes.StartTime(Environment.ProcessId) ?? 0).ToString(CultureInfo.InvariantCulture);

    /// <summary>A journal as this version writes it: header with lab and runtime, undo records, a cancel, step lines.</summary>
    private static void LiveArticle(string root, string id = "a1b2c3", bool sandbox = true)
    {
        var lines = new List<string>
        {
            """{"Header":{"LabId":"@ID","OwnerPid":@PID,"OwnerStartTime":@START,"Scenario":"/labs/article.yaml","Sandbox":@SANDBOX,"Started":"2026-03-04T05:06:07+00:00","Lab":"article","Runtime":"process"},"Seq":0}""",
        };
        if (sandbox)
        {
            lines.Add("""{"Seq":1,"Undo":{"kind":"command","Argv":["ip","netns","delete","lr-@ID"],"Tolerate":[],"Summary":"delete netns sandbox host","Resource":{"Kind":"netns","Name":"lr-@ID"}}}""");
            lines.Add("""{"Seq":2,"Undo":{"kind":"command","Argv":["ip","netns","delete","lr-@ID_wan"],"Tolerate":[],"Summary":"delete netns sandbox uplink network","Resource":{"Kind":"netns","Name":"lr-@ID_wan"}}}""");
        }
        lines.AddRange(
        [
            """{"Seq":0,"Step":{"Position":1,"Count":25,"Number":"0","Title":"0 The article's host runs Docker"}}""",
            """{"Seq":3,"Undo":{"kind":"command","Argv":["ip","netns","delete","@NETNSn1"],"Tolerate":[],"Summary":"delete netns n1","Resource":{"Kind":"netns","Name":"@NETNSn1"}}}""",
            """{"Seq":4,"Undo":{"kind":"command","Argv":["ip","netns","delete","@NETNSn2"],"Tolerate":[],"Summary":"delete netns n2","Resource":{"Kind":"netns","Name":"@NETNSn2"}}}""",
            """{"Seq":0,"Cancel":4}""", // n2 was deleted by the lab itself
            """{"Seq":5,"Undo":{"kind":"container","Runtime":"process","Id":"@ID/busybox-1","Summary":"stop container busybox-1","Resource":{"Kind":"container","Name":"@NETNSbusybox-1"}}}""",
            """{"Seq":6,"Undo":{"kind":"container","Runtime":"process","Id":"@ID/capture-1","Summary":"stop packet capture on veth-1","Resource":{"Kind":"capture","Name":"@ID/capture-1"}}}""",
            """{"Seq":0,"Step":{"Position":19,"Count":25,"Number":"3.4","Title":"3.4 ARP is correct"}}""",
        ]);
        Write(root, id, lines.Select(l => l.Replace("@NETNS", sandbox ? $"lr-{id}-" : "").Replace("@ID", id).Replace("@PID", Pid).Replace("@START", StartTime)
            .Replace("@SANDBOX", sandbox ? "true" : "false")));
    }

    /// <summary>A journal of an earlier version: no lab or runtime in its header, no step lines, resources as display strings.</summary>
    private static void DeadOldJournal(string root, string id = "dead01") =>
        Write(root, id, new[]
        {
            """{"Header":{"LabId":"@ID","OwnerPid":0,"OwnerStartTime":0,"Scenario":"/labs/01-veth-bridge.yaml","Sandbox":true,"Started":"2026-03-01T00:00:00+00:00"},"Seq":0}""",
            """{"Seq":1,"Undo":{"kind":"command","Argv":["ip","netns","delete","lr-@ID-n1"],"Tolerate":[],"Summary":"delete netns n1","Resource":"netns lr-@ID-n1"}}""",
            """{"Seq":2,"Undo":{"kind":"container","Runtime":"containerd","Id":"lr-@ID-c1","Summary":"remove container c1","Resource":"container lr-@ID-c1"}}""",
        }.Select(l => l.Replace("@ID", id)));

    private static void Write(string root, string id, IEnumerable<string> lines)
    {
        Directory.CreateDirectory(Path.Combine(root, id));
        File.WriteAllText(Path.Combine(root, id, LabJournal.FileName), string.Join("\n", lines) + "\n");
    }

    [Fact]
    public void Ls_lists_live_and_dead_runs_oldest_first_with_owner_step_runtime_and_places()
    {
        using var state = new TempDirectory();
        LiveArticle(state.Path);
        DeadOldJournal(state.Path);

        var runs = LabRuns.List(state.Path);

        Assert.Equal(["dead01", "a1b2c3"], runs.Select(r => r.Id));
        var live = runs[1];
        Assert.True(live.Alive);
        Assert.Equal(Environment.ProcessId, live.OwnerPid);
        Assert.Equal("article", live.Lab);
        Assert.Equal("process", live.Runtime);
        Assert.Equal("3.4 (19/25)", live.StepText); // the last step line
        Assert.Equal(["host", "n1", "busybox-1"], live.Places.Select(p => p.Name)); // not the uplink's far end, not n2 (deleted), not a capture
        Assert.Empty(live.Problems);
        var dead = runs[0];
        Assert.False(dead.Alive);
        Assert.Equal("01-veth-bridge", dead.Lab); // an earlier version's header: the lab file's name
        Assert.Equal("containerd", dead.Runtime); // from its container records
        Assert.Equal("-", dead.StepText);
        Assert.Equal(["n1", "c1"], dead.Places.Select(p => p.Name));
    }

    [Fact]
    public void Ls_prints_a_table_and_json_a_script_can_read()
    {
        using var state = new TempDirectory();
        LiveArticle(state.Path);
        DeadOldJournal(state.Path);
        var runs = LabRuns.List(state.Path);

        var table = Cli.LiveLabs.Table(runs);
        using var json = System.Text.Json.JsonDocument.Parse(Cli.LiveLabs.Json(runs));

        Assert.Matches(@"^ID +LAB +OWNER +STARTED +STEP +RUNTIME +MODE$", table[0]);
        Assert.Matches($@"^a1b2c3 +article +{Pid} alive +\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d +3\.4 \(19/25\) +process +sandbox$", table[2]);
        Assert.Matches(@"^dead01 +01-veth-bridge +\? dead ", table[1]);
        var live = json.RootElement[1];
        Assert.Equal("a1b2c3", live.GetProperty("id").GetString());
        Assert.True(live.GetProperty("alive").GetBoolean());
        Assert.Equal(Environment.ProcessId, live.GetProperty("owner").GetInt32());
        Assert.Equal("3.4", live.GetProperty("step").GetProperty("number").GetString());
        Assert.Equal(19, live.GetProperty("step").GetProperty("position").GetInt32());
        Assert.Equal(["host", "n1", "busybox-1"], live.GetProperty("places").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.RootElement[0].GetProperty("step").ValueKind);
    }

    [Fact]
    public void A_damaged_journal_is_listed_with_its_problems()
    {
        using var state = new TempDirectory();
        Write(state.Path, "bad001", ["{\"Header\":{\"LabId\":\"bad"]);

        var run = Assert.Single(LabRuns.List(state.Path));

        Assert.Null(run.Header);
        Assert.False(run.Alive); // nobody holds it open
        Assert.NotEmpty(run.Problems);
        Assert.Equal("bad001 (damaged)", Cli.LiveLabs.Table([run])[1].Split("  ")[0]);
    }

    [Theory]
    [InlineData("a1b2c3")]
    [InlineData("article")]
    public void A_live_run_is_found_by_its_id_or_its_lab_s_name(string name)
    {
        using var state = new TempDirectory();
        LiveArticle(state.Path);
        DeadOldJournal(state.Path);

        Assert.Equal("a1b2c3", LabRuns.FindLive(state.Path, name).Id);
    }

    [Fact]
    public void A_dead_run_is_refused_with_how_to_clean_it()
    {
        using var state = new TempDirectory();
        DeadOldJournal(state.Path);

        var e = Assert.Throws<UsageException>(() => LabRuns.FindLive(state.Path, "01-veth-bridge"));

        Assert.Equal("run dead01 of lab 01-veth-bridge is not live: its owner is gone", e.Message);
        Assert.StartsWith($"labrunner clean --state-dir {state.Path} dead01 removes what it left", e.Fix);
    }

    [Fact]
    public void An_unknown_run_is_refused_naming_the_live_ones_and_the_nearest()
    {
        using var state = new TempDirectory();
        LiveArticle(state.Path);

        var e = Assert.Throws<UsageException>(() => LabRuns.FindLive(state.Path, "artcle"));

        Assert.Equal($"no live run artcle in {state.Path} (did you mean article?)", e.Message);
        Assert.Equal("live runs: a1b2c3 (article)", e.Fix);
    }

    [Fact]
    public void Two_live_runs_of_one_lab_must_be_named_by_id()
    {
        using var state = new TempDirectory();
        LiveArticle(state.Path, "aaaaaa");
        LiveArticle(state.Path, "bbbbbb");

        var e = Assert.Throws<UsageException>(() => LabRuns.FindLive(state.Path, "article"));

        Assert.Equal("2 live runs are of lab article: aaaaaa, bbbbbb", e.Message);
        Assert.Equal("bbbbbb", LabRuns.FindLive(state.Path, "bbbbbb").Id);
    }

    [Fact]
    public void An_unknown_place_is_refused_listing_the_places_and_the_nearest()
    {
        using var state = new TempDirectory();
        LiveArticle(state.Path);
        var run = LabRuns.FindLive(state.Path, "article");

        var e = Assert.Throws<UsageException>(() => LabRuns.Place(run, "busybox-2"));

        Assert.Equal("run a1b2c3 of lab article has no place busybox-2 now (did you mean busybox-1?)", e.Message);
        Assert.Equal("its places: host, n1, busybox-1", e.Fix);
    }

    [Fact]
    public async Task Places_are_reached_by_their_namespace_and_containers_by_the_PID_their_runtime_gives()
    {
        using var state = new TempDirectory();
        LiveArticle(state.Path);
        var run = LabRuns.FindLive(state.Path, "a1b2c3");
        var runtime = new PidRuntime("process").With("a1b2c3/busybox-1", 4242).With("a1b2c3/capture-1", 4343).With("ffffff/busybox-1", 4444);
        Task<NetTarget> Target(string place) => LabRuns.TargetAsync(run, LabRuns.Place(run, place), _ => runtime, Ct);

        Assert.Equal(["ip", "netns", "exec", "lr-a1b2c3", "ip", "-br", "addr"], (await Target("host")).Exec("ip", "-br", "addr"));
        Assert.Equal(["ip", "netns", "exec", "lr-a1b2c3-n1", "sh"], (await Target("n1")).Exec("sh"));
        Assert.Equal(["nsenter", "-t", "4242", "-n", "ip", "-br", "addr"], (await Target("busybox-1")).Exec("ip", "-br", "addr"));
    }

    [Fact]
    public async Task A_host_mode_run_s_host_is_its_owner_s_namespace_and_its_places_keep_their_names()
    {
        using var state = new TempDirectory();
        LiveArticle(state.Path, sandbox: false);
        var run = LabRuns.FindLive(state.Path, "article");

        Assert.Equal(["host", "n1", "busybox-1"], run.Places.Select(p => p.Name));
        Assert.Equal(["nsenter", "-t", Pid, "-n", "sh"], (await LabRuns.TargetAsync(run, LabRuns.Place(run, "host"), _ => new PidRuntime("process"), Ct)).Exec("sh"));
        Assert.Equal(["ip", "netns", "exec", "n1", "sh"], (await LabRuns.TargetAsync(run, LabRuns.Place(run, "n1"), _ => new PidRuntime("process"), Ct)).Exec("sh"));
    }

    [Fact]
    public async Task A_container_that_is_not_running_is_refused()
    {
        using var state = new TempDirectory();
        LiveArticle(state.Path);
        var run = LabRuns.FindLive(state.Path, "article");

        var e = await Assert.ThrowsAsync<UsageException>(() => LabRuns.TargetAsync(run, LabRuns.Place(run, "busybox-1"), _ => new PidRuntime("process"), Ct));

        Assert.Equal("container busybox-1 of run a1b2c3 is not running", e.Message);
    }

    /// <summary>A runtime that only lists containers, each with its PID (<see cref="FakeRuntime"/> has none).</summary>
    private sealed class PidRuntime(string name) : IContainerRuntime
    {
        private readonly Dictionary<string, int> _pids = [];

        public PidRuntime With(string id, int pid)
        {
            _pids[id] = pid;
            return this;
        }

        public string Name => name;

        public bool MayHoldContainers => true;

        public Task<LabContainers> ListLabAsync(string labId, CancellationToken ct = default) =>
            Task.FromResult(new LabContainers([.. _pids.Where(p => p.Key.StartsWith(labId + "/", StringComparison.Ordinal)).Select(p => new LabContainer(p.Key, p.Value))]));

        public Task PrepareAsync(CancellationToken ct = default) => throw new NotSupportedException();

        public Task SeedImageAsync(CancellationToken ct = default) => throw new NotSupportedException();

        public Task<ContainerHandle> StartAsync(ContainerStartRequest request, LabJournal journal, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<CommandOutcome> ExecAsync(ContainerHandle container, IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default) => throw new NotSupportedException();

        public Task StopAsync(ContainerHandle container, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<string?> RemoveAsync(string id, CancellationToken ct = default) => throw new NotSupportedException();

        public Task<Presence> FindAsync(string id, CancellationToken ct = default) => throw new NotSupportedException();
    }
}
