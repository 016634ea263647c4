using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Reporting;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>The bug-report bundle: what it holds, how it is replayed, and what a tampered one cannot do.</summary>
public sealed class BugBundleSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static RunRecord Record()
    {
        var scenario = Scenarios.Load("lab: b\nsteps:\n  - title: t\n    actions: [ { netns-add: n1 } ]\n");
        var recorder = new RunRecorder();
        recorder.LabStarting(scenario, new LabSession("bb0001", true, scenario.Uplink));
        recorder.StepStarting(scenario.Steps[0], 0, 1);
        recorder.StepFinished(scenario.Steps[0], true);
        recorder.TeardownStarting(0);
        recorder.LabFinished(new LabResult("bb0001", LabOutcome.Passed, null, [], new TeardownReport(0, [], []), TimeSpan.FromSeconds(1)));
        return recorder.Record;
    }

    /// <summary>A run whose one step checked a capture on br-0 and veth-2 in c1, whose packets the run kept (KeepCaptures).</summary>
    private static RunRecord RecordWithCaptures(params CapturedPackets[] packets)
    {
        var scenario = Scenarios.Load("""
            lab: cap
            steps:
              - title: "3.5 tcpdump"
                actions: [ { container-run: c1 } ]
                expect:
                  - capture:
                      while: { ping: { from: c1, to: 10.0.0.1 } }
                      on:
                        - { link: br-0, sees: [icmp] }
                        - { link: veth-2, in: c1, never: [icmp] }
            """);
        var capture = (Model.CaptureExpectation)scenario.Steps[0].Expectations[0];
        var recorder = new RunRecorder();
        recorder.LabStarting(scenario, new LabSession("bb0002", true, scenario.Uplink));
        recorder.StepStarting(scenario.Steps[0], 0, 1);
        recorder.ExpectationFinished(capture, new ExpectationResult(true, capture.Describe(), "br-0: 4 packets", 1, TimeSpan.FromSeconds(1))
        {
            Captures = [.. packets.Select((p, i) => p with { Point = capture.On[Math.Min(i, capture.On.Length - 1)] })],
        });
        recorder.StepFinished(scenario.Steps[0], true);
        recorder.TeardownStarting(0);
        recorder.LabFinished(new LabResult("bb0002", LabOutcome.Passed, null, [], new TeardownReport(0, [], []), TimeSpan.FromSeconds(1)));
        return recorder.Record;
    }

    private static CapturedPackets Pcap(int index, byte[]? bytes, string? leftOut = null, long? size = null) =>
        new(new Model.CapturePoint("x", Model.Place.Host, [], []), index, size ?? bytes?.Length ?? 0, bytes, leftOut);

    private static async Task<string> BundleOfAsync(TempDirectory dir, RunRecord run)
    {
        var scenario = dir.File("lab.yaml");
        await File.WriteAllTextAsync(scenario, "lab: cap\n", Ct);
        var bundle = dir.File("cap.tar.gz");
        await BugBundle.WriteAsync(bundle, run, scenario, new BundleManifest("lab.yaml", "process", false, null), new RecordingRunner(), Ct);
        return bundle;
    }

    [Fact]
    public async Task A_bundle_carries_each_captures_pcap_under_captures_with_its_SHA256_and_notes_the_one_left_out()
    {
        using var dir = new TempDirectory();
        var pcap = new byte[] { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 1, 2, 3 };
        var bundle = await BundleOfAsync(dir, RecordWithCaptures(Pcap(1, pcap),
            Pcap(2, null, $"{BugBundle.MaxCaptureBytes + 1} bytes, more than the {BugBundle.MaxCaptureBytes} a bundle keeps of one capture", BugBundle.MaxCaptureBytes + 1)));

        using var into = new TempDirectory();
        var (manifest, root) = await BugBundle.ExtractAsync(bundle, into.Path, Ct); // replay accepts it: every file's SHA-256 checked

        const string name = "captures/step-01-capture-1/1-br-0.pcap";
        Assert.Equal(pcap, await File.ReadAllBytesAsync(Path.Combine(root, name), Ct));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(pcap)), manifest.Files![name]);
        Assert.Equal(2, manifest.Captures!.Count);
        Assert.Equal(new BundleCapture(name, 1, "3.5 tcpdump", 1, 1, "br-0", "host", manifest.Captures[0].Source, pcap.Length, null), manifest.Captures[0]);
        Assert.Matches(@"^lab\.yaml:\d+:\d+$", manifest.Captures[0].Source);
        var left = manifest.Captures[1];
        Assert.Equal((null, "veth-2", "container c1", BugBundle.MaxCaptureBytes + 1), (left.File, left.Link, left.In, left.Bytes));
        Assert.Contains("more than the 4194304 a bundle keeps of one capture", left.LeftOut);
        Assert.DoesNotContain(manifest.Files!.Keys, k => k.Contains("veth-2", StringComparison.Ordinal));
        Assert.Contains("| `captures/` |", await File.ReadAllTextAsync(Path.Combine(root, "README.md"), Ct));
    }

    [Fact]
    public async Task Pcaps_past_the_bundles_bounds_on_files_and_bytes_are_left_out_with_a_note_and_the_bundle_still_replays()
    {
        using var dir = new TempDirectory();
        var many = Enumerable.Range(1, BugBundle.MaxEntries).Select(i => Pcap(i, [(byte)i])).ToArray();

        var (manifest, _) = await BugBundle.ExtractAsync(await BundleOfAsync(dir, RecordWithCaptures(many)), Path.Combine(dir.Path, "many"), Ct);

        Assert.Equal(BugBundle.MaxEntries, manifest.Files!.Count + 1); // every entry the bound allows, the manifest included
        Assert.Equal(BugBundle.MaxEntries, manifest.Captures!.Count);
        Assert.All(manifest.Captures.Where(c => c.File is null), c => Assert.Equal($"left out: a bundle holds at most {BugBundle.MaxEntries} files", c.LeftOut));

        using var big = new TempDirectory();
        var large = Enumerable.Range(1, 5).Select(i => Pcap(i, new byte[BugBundle.MaxCaptureBytes])).ToArray(); // 20 MiB of pcaps, 16 MiB of room
        var (bounded, root) = await BugBundle.ExtractAsync(await BundleOfAsync(big, RecordWithCaptures(large)), Path.Combine(big.Path, "large"), Ct);

        Assert.Equal(4, bounded.Captures!.Count(c => c.File is not null));
        Assert.StartsWith($"left out: the bundle's pcaps may hold {BugBundle.MaxCapturesBytes} bytes in all", bounded.Captures![4].LeftOut);
        Assert.Equal(BugBundle.MaxCaptureBytes, new FileInfo(Path.Combine(root, bounded.Captures![3].File!)).Length);
    }

    [Fact]
    public void The_manifest_replays_with_the_runtime_and_host_options_of_the_run()
    {
        Assert.Equal(["run", "scenario/lab.yaml", "--runtime", "docker", "--host", "--uplink", "eth0"],
            new BundleManifest("lab.yaml", "docker", Host: true, Uplink: "eth0").RunArguments());
        Assert.Equal(["run", "scenario/lab.yaml", "--runtime", "process"], new BundleManifest("lab.yaml", "process", false, null).RunArguments());
    }

    [Fact]
    public async Task A_bundle_holds_the_scenario_the_reports_the_versions_and_a_replay_script_and_extracts_back()
    {
        using var dir = new TempDirectory();
        var scenario = Path.Combine(dir.Path, "lab.yaml");
        await File.WriteAllTextAsync(scenario, "lab: b\n", Ct);
        var bundle = Path.Combine(dir.Path, "b.tar.gz");

        await BugBundle.WriteAsync(bundle, Record(), scenario, new BundleManifest("lab.yaml", "process", false, null), new CliWrapCommandRunner(), Ct);

        var names = new List<string>();
        await using (var gzip = new GZipStream(File.OpenRead(bundle), CompressionMode.Decompress))
        await using (var tar = new TarReader(gzip))
            while (await tar.GetNextEntryAsync(cancellationToken: Ct) is { } entry) names.Add(entry.Name);
        Assert.Equal(["bundle.json", "scenario/lab.yaml", "transcript.md", "junit.xml", "commands.txt", "environment.txt", "replay.sh", "README.md"],
            names.Select(n => n["labrunner-bundle-bb0001/".Length..]));
        Assert.False(File.Exists(bundle + ".partial"));

        using var into = new TempDirectory();
        var (manifest, root) = await BugBundle.ExtractAsync(bundle, into.Path, Ct);
        Assert.Equal("lab.yaml", manifest.ScenarioFile);
        Assert.Equal("lab: b\n", await File.ReadAllTextAsync(Path.Combine(root, "scenario", "lab.yaml"), Ct));
        Assert.Contains("exec ${LABRUNNER:-labrunner} 'run' 'scenario/lab.yaml' '--runtime' 'process'", await File.ReadAllTextAsync(Path.Combine(root, "replay.sh"), Ct));

        // As shipped, on a machine without labrunner on PATH: it says how to run it, not "labrunner: not found".
        var replay = await CliWrap.Buffered.BufferedCommandExtensions.ExecuteBufferedAsync(
            CliWrap.Cli.Wrap("sh").WithArguments([Path.Combine(root, "replay.sh")]).WithEnvironmentVariables(new Dictionary<string, string?> { ["PATH"] = "/usr/bin:/bin", ["LABRUNNER"] = null })
                .WithValidation(CliWrap.CommandResultValidation.None), Ct);
        Assert.Equal(3, replay.ExitCode);
        Assert.Contains("labrunner is not on PATH; run it with LABRUNNER=/path/to/LabRunner/run-lab.sh ./replay.sh", replay.StandardError);
    }

    [Fact]
    public async Task A_bundle_asks_the_tool_versions_through_the_runner_it_is_given_as_checks()
    {
        using var dir = new TempDirectory();
        var scenario = dir.File("lab.yaml");
        await File.WriteAllTextAsync(scenario, "lab: b\n", Ct);
        var bundle = dir.File("b.tar.gz");
        var runner = new RecordingRunner(argv => argv switch
        {
            ["uname", "-srvm"] => RecordingRunner.Ok("Linux 6.1.0-test #1 SMP x86_64\n"),
            ["ctr", "version"] => RecordingRunner.Failed(127, "setsid: failed to execute ctr: No such file or directory\n"),
            _ => RecordingRunner.Ok("v1\n"),
        });

        await BugBundle.WriteAsync(bundle, Record(), scenario, new BundleManifest("lab.yaml", "containerd", false, null), runner, Ct);

        Assert.All(runner.Commands, c => Assert.Equal(CommandPurpose.Check, c.Purpose));
        Assert.Equal(["uname -srvm", "cat /etc/os-release", "ip -V", "iptables -V", "tcpdump --version", "busybox"], runner.Displays.Take(6));
        Assert.Equal("ctr version", runner.Displays[^1]);
        using var into = new TempDirectory();
        var (_, root) = await BugBundle.ExtractAsync(bundle, into.Path, Ct);
        var environment = await File.ReadAllTextAsync(Path.Combine(root, "environment.txt"), Ct);
        Assert.Contains("\n$ uname -srvm\nLinux 6.1.0-test #1 SMP x86_64\n", environment);
        Assert.Contains("\n$ ctr version\nsetsid: failed to execute ctr: No such file or directory\n", environment);
        Assert.Matches(@"^labrunner \d+\.\d+\.\d+\+[0-9a-f]{7,40}\n", environment); // the commit that ran, not 1.0.0.0
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("..")]
    [InlineData("/etc/passwd")]
    public async Task A_manifest_naming_a_file_outside_the_bundle_is_refused(string scenarioFile)
    {
        using var dir = new TempDirectory();
        var bundle = Path.Combine(dir.Path, "evil.tar.gz");
        await using (var gzip = new GZipStream(File.Create(bundle), CompressionLevel.Fastest))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            var json = $"{{\"ScenarioFile\":\"{scenarioFile}\",\"Runtime\":\"process\",\"Host\":false}}";
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "labrunner-bundle-x/bundle.json") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(json)) }, Ct);
        }
        using var into = new TempDirectory();

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => BugBundle.ExtractAsync(bundle, into.Path, Ct));

        Assert.Contains("is not a plain file name", error.Message);
    }

    /// <summary>A bundle as labrunner writes it, then its entries as (name, bytes), to tamper with.</summary>
    private static async Task<List<(string Name, byte[] Content)>> EntriesOfAGoodBundleAsync(string dir)
    {
        var scenario = Path.Combine(dir, "lab.yaml");
        await File.WriteAllTextAsync(scenario, "lab: b\nsteps:\n  - title: t\n    actions: [ { netns-add: n1 } ]\n", Ct);
        var bundle = Path.Combine(dir, "good.tar.gz");
        await BugBundle.WriteAsync(bundle, Record(), scenario, new BundleManifest("lab.yaml", "process", false, null), new CliWrapCommandRunner(), Ct);
        var entries = new List<(string, byte[])>();
        await using var gzip = new GZipStream(File.OpenRead(bundle), CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        while (await tar.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
        {
            using var content = new MemoryStream();
            if (entry.DataStream is { } data) await data.CopyToAsync(content, Ct);
            entries.Add((entry.Name, content.ToArray()));
        }
        return entries;
    }

    private static async Task<string> PackAsync(string dir, IEnumerable<(string Name, byte[] Content)> entries, TarEntryType type = TarEntryType.RegularFile)
    {
        var bundle = Path.Combine(dir, $"tampered-{Guid.NewGuid():N}.tar.gz");
        await using var gzip = new GZipStream(File.Create(bundle), CompressionLevel.Fastest);
        await using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var (name, content) in entries)
            await tar.WriteEntryAsync(new PaxTarEntry(type, name) { DataStream = new MemoryStream(content) }, Ct);
        return bundle;
    }

    private static (string Name, byte[] Content) Manifest(List<(string Name, byte[] Content)> entries) => entries.Single(e => e.Name.EndsWith("/bundle.json", StringComparison.Ordinal));

    private static List<(string Name, byte[] Content)> WithManifest(List<(string Name, byte[] Content)> entries, Func<string, string> edit) =>
        [.. entries.Select(e => e.Name.EndsWith("/bundle.json", StringComparison.Ordinal) ? (e.Name, Encoding.UTF8.GetBytes(edit(Encoding.UTF8.GetString(e.Content)))) : e)];

    private static async Task<string> RefusedAsync(string bundle)
    {
        using var into = new TempDirectory();
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => BugBundle.ExtractAsync(bundle, into.Path, Ct));
        return error.Message;
    }

    [Fact]
    public async Task The_manifest_carries_the_SHA256_of_every_other_file_and_a_good_bundle_extracts()
    {
        using var dir = new TempDirectory();
        var entries = await EntriesOfAGoodBundleAsync(dir.Path);
        var manifest = System.Text.Json.JsonSerializer.Deserialize<BundleManifest>(Manifest(entries).Content)!;

        Assert.Equal(entries.Where(e => e != Manifest(entries)).Select(e => e.Name["labrunner-bundle-bb0001/".Length..]).Order(), manifest.Files!.Keys.Order());
        var scenario = entries.Single(e => e.Name.EndsWith("/scenario/lab.yaml", StringComparison.Ordinal));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(scenario.Content)), manifest.Files!["scenario/lab.yaml"]);
        using var into = new TempDirectory();
        Assert.Equal("lab.yaml", (await BugBundle.ExtractAsync(await PackAsync(dir.Path, entries), into.Path, Ct)).Manifest.ScenarioFile);
    }

    [Fact]
    public async Task An_edited_scenario_is_refused_by_its_checksum()
    {
        using var dir = new TempDirectory();
        var entries = await EntriesOfAGoodBundleAsync(dir.Path);
        var edited = entries.Select(e => e.Name.EndsWith("/scenario/lab.yaml", StringComparison.Ordinal) ? (e.Name, Encoding.UTF8.GetBytes("lab: b\nsteps:\n  - title: t\n    actions: [ { command: { argv: [touch, /tmp/pwned], undo: none } } ]\n")) : e);

        Assert.Contains("scenario/lab.yaml does not match its SHA-256 in bundle.json", await RefusedAsync(await PackAsync(dir.Path, edited)));
    }

    [Fact]
    public async Task A_file_missing_from_or_added_to_the_archive_is_refused()
    {
        using var dir = new TempDirectory();
        var entries = await EntriesOfAGoodBundleAsync(dir.Path);

        Assert.Contains("transcript.md is in bundle.json but not in the archive", await RefusedAsync(await PackAsync(dir.Path, entries.Where(e => !e.Name.EndsWith("/transcript.md", StringComparison.Ordinal)))));
        Assert.Contains("scenario/extra.csx is in the archive but not in bundle.json", await RefusedAsync(await PackAsync(dir.Path, [.. entries, ("labrunner-bundle-bb0001/scenario/extra.csx", "return null;"u8.ToArray())])));
    }

    [Fact]
    public async Task A_manifest_without_checksums_with_an_unknown_runtime_or_that_is_not_json_is_refused()
    {
        using var dir = new TempDirectory();
        var entries = await EntriesOfAGoodBundleAsync(dir.Path);

        Assert.Contains("unknown runtime 'rkt'", await RefusedAsync(await PackAsync(dir.Path, WithManifest(entries, m => m.Replace("\"process\"", "\"rkt\"", StringComparison.Ordinal)))));
        Assert.Contains("bundle.json is not valid", await RefusedAsync(await PackAsync(dir.Path, WithManifest(entries, m => m[..^3]))));
        Assert.Contains("no SHA-256", await RefusedAsync(await PackAsync(dir.Path, WithManifest(entries, m => System.Text.RegularExpressions.Regex.Replace(m, "\"Files\":\\s*\\{[^}]*\\},?", ""))))); 
    }

    [Fact]
    public async Task An_archive_with_two_top_directories_or_a_link_is_refused()
    {
        using var dir = new TempDirectory();
        var entries = await EntriesOfAGoodBundleAsync(dir.Path);

        Assert.Contains("one top directory", await RefusedAsync(await PackAsync(dir.Path, [.. entries, ("other/README.md", "x"u8.ToArray())])));
        var link = Path.Combine(dir.Path, "link.tar.gz");
        await using (var gzip = new GZipStream(File.Create(link), CompressionLevel.Fastest))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "labrunner-bundle-x/bundle.json") { LinkName = "/etc/shadow" }, Ct);
        Assert.Contains("is a symbolic link", await RefusedAsync(link));
    }

    [Fact]
    public async Task Extraction_stops_at_its_bound_on_bytes_while_extracting_and_at_its_bound_on_entries()
    {
        using var dir = new TempDirectory();
        var big = await PackAsync(dir.Path, [("labrunner-bundle-x/junit.xml", new byte[BugBundle.MaxExtractedBytes + (1 << 20)])]);
        using var into = new TempDirectory();

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => BugBundle.ExtractAsync(big, into.Path, Ct));

        Assert.Contains($"more than {BugBundle.MaxExtractedBytes} bytes", error.Message);
        Assert.True(new FileInfo(big).Length < 1 << 20, "a small archive");
        var written = Directory.EnumerateFiles(into.Path, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(written <= BugBundle.MaxExtractedBytes, $"{written} bytes written before it stopped");

        var many = await PackAsync(dir.Path, Enumerable.Range(0, BugBundle.MaxEntries + 1).Select(i => ($"labrunner-bundle-x/f{i}", Array.Empty<byte>())));
        Assert.Contains($"more than {BugBundle.MaxEntries} entries", await RefusedAsync(many));
    }

    [Fact]
    public async Task A_file_that_is_not_a_bundle_is_said_to_be_none()
    {
        using var dir = new TempDirectory();
        var notABundle = Path.Combine(dir.Path, "lab.yaml");
        await File.WriteAllTextAsync(notABundle, "lab: x\n", Ct);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => BugBundle.ExtractAsync(notABundle, Path.Combine(dir.Path, "out"), Ct));

        Assert.Equal($"{notABundle}: this is not a bundle (a .tar.gz written by 'labrunner run --bundle FILE')", error.Message);
    }
}
