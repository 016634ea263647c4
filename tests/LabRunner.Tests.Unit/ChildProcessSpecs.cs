using System.Formats.Tar;
using System.IO.Compression;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Reporting;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// Every process LabRunner starts goes through the <see cref="ICommandRunner"/> its caller has: the pcap filter checks,
/// the busybox image's applet list, the bug bundle's version probes. So each is reported (transcripts, --verbose) and
/// runs under the runner's time limit. A recording runner stands in for the machine: nothing here starts a process.
/// </summary>
public sealed class ChildProcessSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string CaptureLab = """
        lab: capture
        steps:
          - title: t
            actions:
              - netns-add: n1
              - container-run: c1
            expect:
              - capture:
                  while: { ping: { from: c1, to: 10.0.0.1 } }
                  on:
                    - { link: br-0, sees: [arp] }
                    - { link: veth-2, in: c1, never: ["icmp and"] }
        """;

    private static CommandOutcome Tcpdump(IReadOnlyList<string> argv) =>
        argv[^1] == "icmp and" ? RecordingRunner.Failed(1, "tcpdump: can't parse filter expression: syntax error\n") : RecordingRunner.Ok("(000) ret #262144\n");

    [Fact]
    public async Task Each_pcap_filter_is_compiled_by_a_tcpdump_the_runner_runs_as_a_check()
    {
        var runner = new RecordingRunner(Tcpdump);

        var errors = await CaptureFilters.CheckAsync(Scenarios.Load(CaptureLab), runner, ct: Ct);

        var error = Assert.Single(errors);
        error.At(12, 15);
        Assert.Equal("pcap filter 'icmp and' does not compile: can't parse filter expression: syntax error", error.Message);
        Assert.All(runner.Commands, c => Assert.Equal(CommandPurpose.Check, c.Purpose));
        Assert.Equal(2, runner.Commands.Count);
        var header = runner.Commands[0].Argv[3];
        Assert.Equal(["tcpdump", "-d", "-r", header, "--", "arp"], runner.Commands[0].Argv);
        Assert.Equal(["tcpdump", "-d", "-r", header, "--", "icmp and"], runner.Commands[1].Argv);
        Assert.False(File.Exists(header)); // the pcap header the filters were compiled against is removed
    }

    [Fact]
    public async Task A_run_compiles_its_filters_with_the_engines_own_runner_before_anything_is_built()
    {
        using var state = new TempDirectory();
        var runner = new RecordingRunner(Tcpdump);
        var engine = new LabEngine(runner, new FakeRuntime("process"), new CompositeObserver(), new LabOptions { StateRoot = state.Path, LabId = "cf0001" });

        var refused = await Assert.ThrowsAsync<ScenarioInvalidException>(() => engine.RunAsync(Scenarios.Load(CaptureLab), Ct));

        Assert.StartsWith("pcap filter 'icmp and' does not compile", Assert.Single(refused.Errors).Message);
        Assert.Equal(["tcpdump -d", "tcpdump -d"], runner.Displays.Select(d => d[.."tcpdump -d".Length]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(state.Path)); // no journal: nothing was built
    }

    [Fact]
    public async Task The_busybox_image_holds_the_applets_busybox_lists_through_the_runner()
    {
        Assert.SkipWhen(EnvironmentCheck.FindOnPath("busybox") is null, "busybox is not installed");
        var runner = new RecordingRunner(_ => RecordingRunner.Ok("busybox\nsh\nping\n/usr/bin/odd\n"));

        var rootfs = await BusyboxImage.RootfsTarAsync(runner, Ct);

        var command = Assert.Single(runner.Commands);
        Assert.Equal([EnvironmentCheck.FindOnPath("busybox")!, "--list"], command.Argv);
        Assert.Equal(CommandPurpose.Setup, command.Purpose);
        var links = new List<string>();
        using (var tar = new TarReader(new MemoryStream(rootfs)))
            while (tar.GetNextEntry() is { } entry)
                if (entry.EntryType == TarEntryType.SymbolicLink) links.Add(entry.Name);
        Assert.Equal(["bin/ping", "bin/sh"], links);
    }

    [Fact]
    public async Task A_busybox_that_cannot_list_its_applets_makes_no_image()
    {
        Assert.SkipWhen(EnvironmentCheck.FindOnPath("busybox") is null, "busybox is not installed");
        var runner = new RecordingRunner(_ => RecordingRunner.Failed(124, "timed out after 60s"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => BusyboxImage.GzippedRootfsAsync(runner, Ct));

        Assert.EndsWith("--list` failed: timed out after 60s", error.Message);
    }

    [Fact]
    public async Task A_bug_bundle_asks_the_tool_versions_through_the_runner_as_checks()
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
        var environment = await EntryAsync(bundle, "environment.txt");
        Assert.Contains("\n$ uname -srvm\nLinux 6.1.0-test #1 SMP x86_64\n", environment);
        Assert.Contains("\n$ ctr version\nsetsid: failed to execute ctr: No such file or directory\n", environment);
    }

    private static RunRecord Record()
    {
        var scenario = Scenarios.Load("lab: b\nsteps:\n  - title: t\n    actions: [ { netns-add: n1 } ]\n");
        var recorder = new RunRecorder();
        recorder.LabStarting(scenario, new LabSession("bb0002", true, scenario.Uplink));
        recorder.StepStarting(scenario.Steps[0], 0, 1);
        recorder.StepFinished(scenario.Steps[0], true);
        recorder.TeardownStarting(0);
        recorder.LabFinished(new LabResult("bb0002", LabOutcome.Passed, null, [], new TeardownReport(0, [], []), TimeSpan.FromSeconds(1)));
        return recorder.Record;
    }

    private static async Task<string> EntryAsync(string bundle, string name)
    {
        await using var gzip = new GZipStream(File.OpenRead(bundle), CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        while (await tar.GetNextEntryAsync(cancellationToken: Ct) is { } entry)
            if (entry.Name.EndsWith("/" + name, StringComparison.Ordinal))
                return await new StreamReader(entry.DataStream!).ReadToEndAsync(Ct);
        throw new InvalidOperationException($"{name} is not in {bundle}");
    }
}
