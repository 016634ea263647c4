using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Reporting;

namespace LabRunner.Tests.Integration;

/// <summary>
/// `labrunner replay` on bundles it did not write: every malformed one exits 2 with a message and leaves nothing
/// (no temporary directory), `--plan` shows what a replay would run, and `--host` comes only from the command line.
/// </summary>
public sealed class ReplaySpecs : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _dir = Directory.CreateTempSubdirectory("lr-replay-specs-").FullName;

    /// <summary>Where labrunner makes its temporary directories (TMPDIR): must be empty again when it exits.</summary>
    private readonly string _tmp;

    public ReplaySpecs() => _tmp = Directory.CreateDirectory(Path.Combine(_dir, "tmp")).FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>What an edited scenario would create, were it run.</summary>
    private string Pwned => Path.Combine(_dir, "pwned");

    private Task<LabRun> ReplayAsync(params string[] args) =>
        LabCli.RunAsync(["replay", .. args], new Dictionary<string, string?> { ["TMPDIR"] = _tmp }, ct: Ct);

    private async Task<string> BundleAsync(BundleManifest manifest, string scenarioText = "lab: b\nsteps:\n  - title: t\n    actions: [ { netns-add: n1 } ]\n")
    {
        var scenario = Path.Combine(_dir, manifest.ScenarioFile);
        await File.WriteAllTextAsync(scenario, scenarioText, Ct);
        var loaded = Loading.ScenarioLoader.LoadFile(scenario);
        var recorder = new RunRecorder();
        recorder.LabStarting(loaded, new LabSession("bb0001", true, loaded.Uplink));
        recorder.TeardownStarting(0);
        recorder.LabFinished(new LabResult("bb0001", LabOutcome.Passed, null, [], new TeardownReport(0, [], []), TimeSpan.FromSeconds(1)));
        var bundle = Path.Combine(_dir, $"b-{Guid.NewGuid():N}.tar.gz");
        await BugBundle.WriteAsync(bundle, recorder.Record, scenario, manifest, new CliWrapCommandRunner(), Ct);
        return bundle;
    }

    /// <summary>The bundle's entries, changed by <paramref name="edit"/>, packed again.</summary>
    private async Task<string> TamperAsync(string bundle, Func<List<(string Name, byte[] Content)>, IEnumerable<(string Name, byte[] Content)>> edit)
    {
        var entries = new List<(string Name, byte[] Content)>();
        await using (var gzip = new GZipStream(File.OpenRead(bundle), CompressionMode.Decompress))
        await using (var tar = new TarReader(gzip))
            while (await tar.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
            {
                using var content = new MemoryStream();
                if (entry.DataStream is { } data) await data.CopyToAsync(content, Ct);
                entries.Add((entry.Name, content.ToArray()));
            }
        var tampered = Path.Combine(_dir, $"t-{Guid.NewGuid():N}.tar.gz");
        await using (var gzip = new GZipStream(File.Create(tampered), CompressionLevel.Fastest))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            foreach (var (name, content) in edit(entries))
                await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) }, Ct);
        return tampered;
    }

    private static IEnumerable<(string, byte[])> EditManifest(List<(string Name, byte[] Content)> entries, Func<string, string> edit) =>
        entries.Select(e => e.Name.EndsWith("/bundle.json", StringComparison.Ordinal) ? (e.Name, Encoding.UTF8.GetBytes(edit(Encoding.UTF8.GetString(e.Content)))) : e);

    public static TheoryData<string> Hostile() => ["two-top-directories", "unknown-runtime", "edited-scenario", "added-file", "301-MiB", "not-gzip"];

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_malformed_bundle_exits_2_with_a_message_and_leaves_no_temporary_directory(string kind)
    {
        var good = await BundleAsync(new BundleManifest("lab.yaml", "process", false, null));
        var bundle = kind switch
        {
            "two-top-directories" => await TamperAsync(good, e => [.. e, ("other/README.md", "x"u8.ToArray())]),
            "unknown-runtime" => await TamperAsync(good, e => EditManifest(e, m => m.Replace("\"process\"", "\"rkt\"", StringComparison.Ordinal))),
            "edited-scenario" => await TamperAsync(good, e => e.Select(x => x.Name.EndsWith("/scenario/lab.yaml", StringComparison.Ordinal)
                ? (x.Name, Encoding.UTF8.GetBytes($"lab: b\nsteps:\n  - title: t\n    actions: [ {{ command: {{ argv: [touch, {Pwned}], undo: none }} }} ]\n")) : x)),
            "added-file" => await TamperAsync(good, e => [.. e, (e[0].Name[..e[0].Name.IndexOf('/', StringComparison.Ordinal)] + "/scenario/more.yaml", "lab: x\n"u8.ToArray())]),
            "301-MiB" => await TamperAsync(good, e => [.. e.Where(x => !x.Name.EndsWith("/junit.xml", StringComparison.Ordinal)), (e[0].Name[..e[0].Name.IndexOf('/', StringComparison.Ordinal)] + "/junit.xml", new byte[301 << 20])]),
            _ => Path.Combine(_dir, "lab.yaml"),
        };

        var replay = await ReplayAsync(bundle);

        Assert.True(replay.ExitCode == 2, replay.ToString());
        Assert.StartsWith($"error: cannot replay {bundle}: ", replay.Stderr);
        Assert.DoesNotContain("   at ", replay.Output);
        Assert.DoesNotContain("(id ", replay.Stdout); // no lab was started
        Assert.Empty(Directory.EnumerateFileSystemEntries(_tmp));
        Assert.False(File.Exists(Pwned));
    }

    [Fact]
    public async Task Replay_plan_shows_the_commands_a_replay_would_run_and_runs_none()
    {
        var bundle = await BundleAsync(new BundleManifest("lab.yaml", "process", false, null));

        var plan = await ReplayAsync("--plan", bundle);

        Assert.True(plan.ExitCode == 0, plan.ToString());
        Assert.Matches(@"\$ ip netns add lr-[0-9a-z]+-n1", plan.Stdout);
        Assert.Contains("nothing was run", plan.Stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_tmp));
    }

    /// <summary>`replay --plan --format json` (issue 15): the plan's events on stdout, one JSON object a line, marked as a plan; its text on stderr.</summary>
    [Fact]
    public async Task Replay_plan_with_format_json_streams_the_plan_as_events_and_its_text_on_stderr()
    {
        var bundle = await BundleAsync(new BundleManifest("lab.yaml", "process", false, null));

        var plan = await ReplayAsync("--plan", "--format", "json", bundle);

        Assert.True(plan.ExitCode == 0, plan.ToString());
        var events = plan.Stdout.TrimEnd('\n').Split('\n').Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal("lab-started", events[0].GetProperty("event").GetString());
        Assert.True(events[0].GetProperty("plan").GetBoolean());
        Assert.Equal(bundle, events[0].GetProperty("file").GetString());
        Assert.Contains(events, e => e.GetProperty("event").GetString() == "command" &&
                                     e.GetProperty("argv").EnumerateArray().Select(a => a.GetString()).SequenceEqual(["ip", "netns", "add", $"lr-{events[0].GetProperty("run").GetString()}-n1"]));
        Assert.Equal(("result", 0), (events[^1].GetProperty("event").GetString(), events[^1].GetProperty("exitCode").GetInt32()));
        Assert.Contains("nothing was run", plan.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_tmp));
    }

    [Fact]
    public async Task Replaying_a_file_that_is_no_bundle_with_format_json_is_one_error_event_exit_2()
    {
        var replay = await ReplayAsync("--format", "json", Path.Combine(_dir, "none.tar.gz"));

        Assert.True(replay.ExitCode == 2, replay.ToString());
        using var error = System.Text.Json.JsonDocument.Parse(replay.Stdout.TrimEnd('\n')); // one line, one object
        Assert.Equal(("error", 2), (error.RootElement.GetProperty("event").GetString(), error.RootElement.GetProperty("exitCode").GetInt32()));
        Assert.StartsWith($"error: cannot replay {Path.Combine(_dir, "none.tar.gz")}: ", replay.Stderr);
    }

    [Fact]
    public async Task A_bundle_run_with_host_replays_in_a_sandbox_unless_host_is_given_on_the_replay_command_line()
    {
        var bundle = await BundleAsync(new BundleManifest("lab.yaml", "process", Host: true, Uplink: "eth7"));

        var sandboxed = await ReplayAsync("--plan", bundle);
        var host = await ReplayAsync("--plan", bundle, "--host");

        Assert.True(sandboxed.ExitCode == 0, sandboxed.ToString());
        Assert.Matches(@"\$ ip netns add lr-[0-9a-z]+-n1", sandboxed.Stdout);
        Assert.Contains("was run with --host --uplink eth7; it replays in a sandbox unless you pass them: labrunner replay BUNDLE --host --uplink eth7", sandboxed.Output);
        Assert.True(host.ExitCode == 0, host.ToString());
        Assert.Contains("$ ip netns add n1", host.Stdout);
    }
}
