using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `labrunner clean` facing journals torn by a kill -9, garbled, cut short or naming what it does not know, and runtimes
/// whose daemon is down: it never says "nothing left" unless it looked, and one bad journal never stops the others.
/// </summary>
public sealed class CleanerSpecs
{
    private sealed class NothingRunner : ICommandRunner
    {
        public bool IsDryRun => false;

        public List<string> Ran { get; } = [];

        public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
        {
            lock (Ran) Ran.Add(argv.Display());
            return Task.FromResult(new CommandOutcome(0, "", "", TimeSpan.Zero));
        }

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            throw new NotSupportedException("these specs start no background command");
    }

    private readonly NothingRunner _runner = new();
    private readonly Dictionary<string, FakeRuntime> _runtimes = ContainerRuntimes.Names.ToDictionary(n => n, n => new FakeRuntime(n));

    private Cleaner CleanerFor(string root) => new(_runner, name => _runtimes[name], root);

    private static JournalHeader Dead(string id) => new(id, 0, 0, "x.yaml", true, DateTimeOffset.UtcNow); // PID 0 is never a live run

    private static string Journal(string root, string id) => Path.Combine(root, id, LabJournal.FileName);

    [Fact]
    public async Task A_journal_that_died_before_its_header_was_written_is_cleaned_by_its_id_and_the_others_still_cleaned()
    {
        using var root = new TempDirectory();
        var torn = Directory.CreateDirectory(Path.Combine(root.Path, "aaaaaa")).FullName;
        File.WriteAllText(Path.Combine(torn, LabJournal.FileName), "{\"Header\":{\"LabId\":\"aaa"); // torn mid-line
        using (var dead = LabJournal.Create(root.Path, Dead("bbbbbb")))
            dead.Append(new UndoCommand("delete netns lr-bbbbbb", ["ip", "netns", "delete", "lr-bbbbbb"], [], null));

        var cleaned = await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken);

        Assert.Equal(["aaaaaa", "bbbbbb"], cleaned.Select(c => c.LabId));
        Assert.All(cleaned, c => Assert.True(c.Report.Clean));
        Assert.Empty(Directory.GetDirectories(root.Path));
    }

    [Fact]
    public async Task A_journal_being_written_right_now_is_left_alone()
    {
        using var root = new TempDirectory();
        var fresh = Directory.CreateDirectory(Path.Combine(root.Path, "cccccc")).FullName;
        // A run (here: this process) holds its journal open while it runs.
        using var open = new FileStream(Path.Combine(fresh, LabJournal.FileName), FileMode.CreateNew, FileAccess.Write, FileShare.Read);

        var cleaned = await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken);

        Assert.Empty(cleaned);
        Assert.True(Directory.Exists(fresh));
    }

    [Fact]
    public async Task A_garbled_header_still_finds_the_labs_containers_by_its_id_in_every_runtime()
    {
        using var root = new TempDirectory();
        using (var journal = LabJournal.Create(root.Path, Dead("dddddd")))
            journal.Append(new UndoRemoveContainer("remove container busybox-1", "containerd", "lr-dddddd-busybox-1"));
        var path = Journal(root.Path, "dddddd");
        File.WriteAllLines(path, ["#garbage#", .. File.ReadAllLines(path).Skip(1)]);
        _runtimes["containerd"].With("lr-dddddd-busybox-1", "dddddd").With("lr-dddddd-busybox-2", "dddddd").With("lr-eeeeee-other", "eeeeee");
        _runtimes["docker"].With("lr-dddddd-busybox-3", "dddddd");

        var cleaned = Assert.Single(await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken));

        Assert.True(cleaned.Report.Clean, string.Join("\n", cleaned.Report.Leftovers));
        Assert.Equal(["lr-eeeeee-other"], _runtimes["containerd"].Ids); // another lab's container is not touched
        Assert.Empty(_runtimes["docker"].Ids);
        Assert.Contains(cleaned.Report.Problems, p => p.Contains("no readable header", StringComparison.Ordinal));
        Assert.Contains(cleaned.Report.Problems, p => p.Contains("removed docker container lr-dddddd-busybox-3", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(root.Path, "dddddd")));
    }

    [Fact]
    public async Task A_journal_cut_in_half_still_removes_the_namespaces_that_carry_the_lab_id()
    {
        using var root = new TempDirectory();
        using (var journal = LabJournal.Create(root.Path, Dead("ffffff")))
            journal.Append(new UndoCommand("delete netns lr-ffffff", ["ip", "netns", "delete", "lr-ffffff"], [], null));
        var path = Journal(root.Path, "ffffff");
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.Length * 3 / 4)]);

        var cleaned = Assert.Single(await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken));

        Assert.Contains(cleaned.Report.Problems, p => p.Contains("cut off", StringComparison.Ordinal));
        // The runtimes were asked for the lab's containers although no record named them.
        Assert.True(cleaned.Report.Clean);
    }

    [Theory]
    [InlineData("{\"Seq\":2,\"Undo\":{\"Summary\":\"no kind\",\"Runtime\":\"process\",\"Id\":\"x\"}}")]
    [InlineData("{\"Seq\":2,\"Undo\":{\"kind\":\"container\",\"Summary\":\"remove container c\",\"Runtime\":\"podman\",\"Id\":\"lr-a1a1a1-c\"}}")]
    public async Task A_record_without_kind_or_with_an_unknown_runtime_is_reported_and_every_other_journal_still_cleaned(string record)
    {
        using var root = new TempDirectory();
        using (var bad = LabJournal.Create(root.Path, Dead("a1a1a1")))
            bad.Append(new UndoCommand("delete netns lr-a1a1a1", ["ip", "netns", "delete", "lr-a1a1a1"], [], null));
        File.AppendAllText(Journal(root.Path, "a1a1a1"), record + "\n");
        using (var good = LabJournal.Create(root.Path, Dead("b2b2b2") with { Started = DateTimeOffset.UtcNow.AddSeconds(1) }))
            good.Append(new UndoCommand("delete netns lr-b2b2b2", ["ip", "netns", "delete", "lr-b2b2b2"], [], null));

        var cleaned = await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken);

        Assert.Equal(["a1a1a1", "b2b2b2"], cleaned.Select(c => c.LabId));
        Assert.All(cleaned, c => Assert.True(c.Report.Clean, string.Join("\n", c.Report.Leftovers)));
        Assert.Contains(cleaned[0].Report.Problems, p => p.Contains("line 3", StringComparison.Ordinal) || p.Contains("unknown runtime 'podman'", StringComparison.Ordinal));
        Assert.Contains("ip netns delete lr-b2b2b2", _runner.Ran);
    }

    [Fact]
    public async Task A_runtime_whose_daemon_is_down_is_never_taken_for_gone_and_the_journal_is_kept()
    {
        using var root = new TempDirectory();
        using (var journal = LabJournal.Create(root.Path, Dead("c3c3c3")))
            journal.Append(new UndoRemoveContainer("remove container busybox-1", "containerd", "lr-c3c3c3-busybox-1"));
        _runtimes["containerd"].With("lr-c3c3c3-busybox-1", "c3c3c3").Down = "containerd is not running (no socket at /run/containerd/containerd.sock)";

        var cleaned = Assert.Single(await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken));

        Assert.False(cleaned.Report.Clean);
        Assert.Contains(cleaned.Report.Leftovers, l => l.StartsWith("cannot tell whether container lr-c3c3c3-busybox-1 is gone", StringComparison.Ordinal)
                                                       && l.Contains("start containerd, then run `labrunner clean`", StringComparison.Ordinal));
        Assert.True(File.Exists(Journal(root.Path, "c3c3c3")));

        _runtimes["containerd"].Down = null; // the daemon is back
        var again = Assert.Single(await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken));

        Assert.True(again.Report.Clean, string.Join("\n", again.Report.Leftovers));
        Assert.Empty(_runtimes["containerd"].Ids);
        Assert.False(File.Exists(Journal(root.Path, "c3c3c3")));
    }

    [Fact]
    public async Task Directories_of_runs_that_died_while_creating_or_removing_their_journal_are_removed()
    {
        using var root = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(root.Path, ".new-d4d4d4-999999999"));
        Directory.CreateDirectory(Path.Combine(root.Path, ".gone-e5e5e5-999999999"));
        var live = Directory.CreateDirectory(Path.Combine(root.Path, $".new-f6f6f6-{Environment.ProcessId}")).FullName;

        var cleaned = await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken);

        Assert.Empty(cleaned);
        Assert.Equal([live], Directory.GetDirectories(root.Path));
    }

    /// <summary>A run of the previous version, killed before an upgrade: its journal names resources as display strings.</summary>
    [Fact]
    public async Task A_journal_written_before_resources_were_typed_is_cleaned_like_any_other()
    {
        using var root = new TempDirectory();
        var dir = Directory.CreateDirectory(Path.Combine(root.Path, "0a9e01")).FullName;
        File.WriteAllLines(Path.Combine(dir, LabJournal.FileName),
        [
            """{"Header":{"LabId":"0a9e01","OwnerPid":0,"OwnerStartTime":0,"Scenario":"x.yaml","Sandbox":true,"Started":"2026-01-02T03:04:05+00:00"},"Seq":0}""",
            """{"Seq":1,"Undo":{"kind":"command","Argv":["ip","netns","delete","lr-0a9e01-n1"],"Tolerate":["No such file or directory"],"Verify":{"Kind":"PathAbsent","Argv":[],"Expected":"/var/run/netns/lr-0a9e01-n1"},"Summary":"delete netns n1","Resource":"netns lr-0a9e01-n1"}}""",
            """{"Seq":2,"Undo":{"kind":"container","Runtime":"process","Id":"0a9e01/c1","Summary":"stop container c1","Resource":"container lr-0a9e01-c1"}}""",
            """{"Seq":3,"Undo":{"kind":"command","Argv":["ip","-n","lr-0a9e01","link","delete","dev","veth-1"],"Tolerate":["Cannot find device"],"Verify":{"Kind":"Absent","Argv":["ip","-n","lr-0a9e01","link","show","dev","veth-1"]},"Summary":"delete link veth-1 in host","Resource":"link veth-1 in lr-0a9e01"}}""",
        ]);
        _runtimes["process"].With("0a9e01/c1", "0a9e01");

        var cleaned = Assert.Single(await CleanerFor(root.Path).CleanAsync(ct: TestContext.Current.CancellationToken));

        Assert.True(cleaned.Report.Clean, string.Join("\n", cleaned.Report.Leftovers));
        Assert.Empty(cleaned.Report.Problems); // every line read: not a damaged journal
        Assert.Equal(3, cleaned.Report.Undone);
        Assert.Equal(["ip -n lr-0a9e01 link delete dev veth-1", "ip netns delete lr-0a9e01-n1"], _runner.Ran.Where(r => r.Contains("delete", StringComparison.Ordinal)));
        Assert.Empty(_runtimes["process"].Ids);
        Assert.False(Directory.Exists(dir));
    }

    private static JournalHeader Live(string id) =>
        new(id, Environment.ProcessId, Platform.Processes.StartTime(Environment.ProcessId) ?? 0, "live.yaml", true, DateTimeOffset.UtcNow) { Lab = "live" };

    [Fact]
    public async Task Clean_with_ids_cleans_only_those_dead_runs()
    {
        using var root = new TempDirectory();
        foreach (var id in new[] { "d00001", "d00002" })
            using (var dead = LabJournal.Create(root.Path, Dead(id)))
                dead.Append(new UndoCommand($"delete netns lr-{id}", ["ip", "netns", "delete", $"lr-{id}"], [], null));
        var cleaner = CleanerFor(root.Path);

        cleaner.CheckNamed(["d00002"]);
        var cleaned = await cleaner.CleanAsync(ct: TestContext.Current.CancellationToken, ids: ["d00002"]);

        Assert.Equal("d00002", Assert.Single(cleaned).LabId);
        Assert.Equal(["d00001"], Directory.GetDirectories(root.Path).Select(Path.GetFileName));
        Assert.Equal(["ip netns delete lr-d00002"], _runner.Ran.Where(r => r.StartsWith("ip netns delete", StringComparison.Ordinal)));
    }

    [Fact]
    public void Clean_of_an_unknown_id_is_refused_naming_the_runs_there_and_cleans_nothing()
    {
        using var root = new TempDirectory();
        using (LabJournal.Create(root.Path, Dead("d00001"))) { }
        using var live = LabJournal.Create(root.Path, Live("11ve01"));

        var e = Assert.Throws<UsageException>(() => CleanerFor(root.Path).CheckNamed(["d00002"]));

        Assert.Equal($"no run d00002 in {root.Path} (did you mean d00001?); nothing was cleaned", e.Message);
        Assert.Equal("runs there: d00001 (x, dead), 11ve01 (live, live)", e.Fix);
        Assert.Empty(_runner.Ran);
    }

    [Fact]
    public void Clean_of_a_live_run_is_refused()
    {
        using var root = new TempDirectory();
        using var live = LabJournal.Create(root.Path, Live("11ve01"));

        var e = Assert.Throws<UsageException>(() => CleanerFor(root.Path).CheckNamed(["11ve01"]));

        Assert.Equal($"run 11ve01 (lab live, owner PID {Environment.ProcessId}) is live: clean only removes what dead runs left; nothing was cleaned", e.Message);
        Assert.True(Directory.Exists(Path.Combine(root.Path, "11ve01")));
    }
}
