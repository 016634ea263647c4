using LabRunner.Authoring;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The capture expectation (the article's step 3.5, tcpdump on br-0, veth-4 and veth-2): how it is written in YAML
/// and C#, what the loader refuses, and libpcap's verdict on filters before a lab starts.
/// </summary>
public sealed class CaptureSpecs
{
    private const string Lab = """
        lab: capture
        steps:
          - title: t
            actions:
              - netns-add: n1
              - container-run: c1
            expect:
              - capture:
                  while: { ping: { from: c1, to: 10.0.0.1, count: 3 } }
                  on:
                    - { link: br-0, sees: ["icmp[icmptype] == icmp-echo", arp] }
                    - { link: veth-2, in: c1, never: [icmp] }
                    - { link: eth0, in: n1, sees: [arp], never: ["udp port 53"] }
                  within: 8s
        """;

    [Fact]
    public void A_capture_names_its_traffic_and_for_each_link_the_filters_it_must_and_must_not_match()
    {
        var capture = Assert.IsType<CaptureExpectation>(Scenarios.Load(Lab).Steps[0].Expectations.Single());

        Assert.Equal(new CaptureTraffic(Place.Container("c1"), "10.0.0.1", 3), capture.While);
        Assert.Equal(["br-0", "veth-2", "eth0"], capture.On.Select(p => p.Link));
        Assert.Equal([Place.Host, Place.Container("c1"), Place.Netns("n1")], capture.On.Select(p => p.In));
        Assert.Equal(["icmp[icmptype] == icmp-echo", "arp"], capture.On[0].Sees);
        Assert.Empty(capture.On[0].Never);
        Assert.Equal(["icmp"], capture.On[1].Never);
        Assert.Equal(["udp port 53"], capture.On[2].Never);
        Assert.Equal(TimeSpan.FromSeconds(8), capture.Within);
        Assert.Equal(new SourceSpan(Scenarios.File, 12, 15), capture.On[1].Span);
        Assert.Equal(
            "while c1 pings 10.0.0.1: br-0 sees 'icmp[icmptype] == icmp-echo', 'arp'; veth-2 in c1 never 'icmp'; eth0 in n1 sees 'arp' and never 'udp port 53'",
            capture.Describe());
    }

    [Fact]
    public void The_ping_of_a_capture_sends_two_echo_requests_unless_told()
    {
        var capture = (CaptureExpectation)Scenarios.Load(Lab.Replace(", count: 3", "")).Steps[0].Expectations.Single();

        Assert.Equal(2, capture.While.Count);
    }

    [Fact]
    public void A_capture_without_links_or_with_an_unknown_key_is_refused_where_it_is_written()
    {
        var noLinks = Scenarios.ErrorIn(Lab[..Lab.IndexOf("          on:", StringComparison.Ordinal)] + "          on: []\n");
        Assert.Equal("'on' must be a non-empty list of links to capture on", noLinks.Message);
        noLinks.At(10, 15);

        var typo = Scenarios.ErrorIn(Lab.Replace("never: [\"udp port 53\"]", "nevr: [\"udp port 53\"]"));
        Assert.Equal("unknown key 'nevr' in a capture point", typo.Message);
        Assert.Equal("did you mean 'never'?", typo.Hint);
    }

    [Fact]
    public void The_same_capture_written_in_CSharp_is_the_same_expectation()
    {
        var yaml = Scenarios.Load(Lab).Steps[0].Expectations.Single();
        var csharp = Authoring.Lab.Named("capture")
            .Step("t", s => s
                .Netns("n1")
                .Container("c1")
                .Expect.Capture(pingFrom: "c1", pingTo: "10.0.0.1", pingCount: 3, on:
                [
                    new CaptureOn("br-0", Sees: ["icmp[icmptype] == icmp-echo", "arp"]),
                    new CaptureOn("veth-2", In: "c1", Never: ["icmp"]),
                    new CaptureOn("eth0", In: "n1", Sees: ["arp"], Never: ["udp port 53"]),
                ]).Within(TimeSpan.FromSeconds(8)))
            .Build().Steps[0].Expectations.Single();

        Assert.Equal(ModelJson.WithoutSpans(yaml), ModelJson.WithoutSpans(csharp));
    }

    [Fact]
    public void A_CSharp_capture_point_without_filters_is_refused()
    {
        var builder = Authoring.Lab.Named("bad").Step("s", s => s
            .Container("c1")
            .Expect.Capture(pingFrom: "c1", pingTo: "10.0.0.1", on: [new CaptureOn("eth0", In: "c1")]));

        var error = Assert.Single(Assert.Throws<ScenarioInvalidException>(() => builder.Build()).Errors);
        Assert.Equal("a capture point needs 'sees' or 'never'", error.Message); // one set of messages for YAML and C# (issue 10)
    }

    [Fact]
    public void A_capture_needs_tcpdump_on_the_machine()
    {
        using var bin = new TempDirectory();
        var scenario = Scenarios.Load(Lab);

        var problems = EnvironmentCheck.Problems(scenario, searchPath: bin.Path);

        Assert.Contains(problems, p => p.StartsWith("missing tools:", StringComparison.Ordinal) && p.Contains("tcpdump", StringComparison.Ordinal)
            && p.Contains("apt-get install -y", StringComparison.Ordinal));
        Assert.DoesNotContain(EnvironmentCheck.Problems(Scenarios.Load("lab: x\nsteps:\n  - title: t\n    actions: [ { netns-add: n1 } ]\n"), searchPath: bin.Path),
            p => p.Contains("tcpdump", StringComparison.Ordinal));
    }

    /// <summary>libpcap is the judge of a filter: run only where tcpdump is installed (it is wherever labs run).</summary>
    [Fact]
    public async Task A_filter_libpcap_cannot_compile_is_a_scenario_error_at_its_capture_point()
    {
        Assert.SkipWhen(EnvironmentCheck.FindOnPath("tcpdump") is null, "tcpdump is not installed");
        var scenario = Scenarios.Load(Lab.Replace("never: [icmp]", "never: [\"icmp and\"]"));

        var errors = (await LabPreflight.CheckAsync(scenario, new CliWrapCommandRunner(), TestContext.Current.CancellationToken)).Errors;

        var error = Assert.Single(errors);
        error.At(12, 15);
        Assert.StartsWith("pcap filter 'icmp and' does not compile: ", error.Message);
        Assert.Empty((await LabPreflight.CheckAsync(Scenarios.Load(Lab), new CliWrapCommandRunner(), TestContext.Current.CancellationToken)).Errors);
    }

    [Fact]
    public void A_filter_that_starts_with_a_dash_is_refused_where_it_is_written_in_YAML_and_in_CSharp()
    {
        var yaml = Scenarios.ErrorIn(Lab.Replace("never: [icmp]", "never: [\"-w/tmp/x\"]"));
        yaml.At(12, 46); // the list of filters
        Assert.Equal("a filter in 'never' starts with '-' ('-w/tmp/x'): tcpdump would read it as an option", yaml.Message);

        var builder = Authoring.Lab.Named("bad").Step("s", s => s
            .Container("c1")
            .Expect.Capture(pingFrom: "c1", pingTo: "10.0.0.1", on: [new CaptureOn("eth0", In: "c1", Sees: [" -r/etc/shadow"])]));
        var csharp = Assert.Single(Assert.Throws<ScenarioInvalidException>(() => builder.Build()).Errors);
        Assert.Equal("a filter in 'sees' starts with '-' (' -r/etc/shadow'): tcpdump would read it as an option", csharp.Message); // the YAML field's name, as in YAML
        Assert.True(csharp.Span.Line > 0, csharp.ToString());
    }

    /// <summary>A scenario whose capture filter skipped the form check (built as a model, not loaded): what tcpdump gets.</summary>
    private static Scenario WithNeverFilter(string filter)
    {
        var scenario = Scenarios.Load(Lab);
        var step = scenario.Steps[0];
        var capture = (CaptureExpectation)step.Expectations.Single();
        capture = capture with { On = [capture.On[1] with { Never = [filter] }] };
        return scenario with { Steps = [step with { Expectations = [capture] }] };
    }

    [Fact]
    public async Task A_filter_given_to_libpcap_before_a_run_is_never_read_as_an_option_even_past_the_form_check()
    {
        Assert.SkipWhen(EnvironmentCheck.FindOnPath("tcpdump") is null, "tcpdump is not installed");
        using var dir = new TempDirectory();
        var written = Path.Combine(dir.Path, "x.pcap");

        var errors = (await LabPreflight.CheckAsync(WithNeverFilter("-w" + written), new CliWrapCommandRunner(), TestContext.Current.CancellationToken)).Errors;

        Assert.StartsWith($"pcap filter '-w{written}' does not compile: ", Assert.Single(errors).Message);
        Assert.False(File.Exists(written));
    }

    /// <summary>What tcpdump -d says of the lab's filters, played by a recording runner: it refuses only 'icmp and'.</summary>
    private static CommandOutcome Tcpdump(IReadOnlyList<string> argv) =>
        argv[^1] == "icmp and" ? RecordingRunner.Failed(1, "tcpdump: can't parse filter expression: syntax error\n") : RecordingRunner.Ok("(000) ret #262144\n");

    [Fact]
    public async Task Each_filter_is_compiled_by_a_tcpdump_that_the_callers_runner_runs_as_a_check()
    {
        var runner = new RecordingRunner(Tcpdump);

        var capture = Scenarios.Load(Lab.Replace("never: [icmp]", "never: [\"icmp and\"]")).Steps[0].Expectations.Single();
        var errors = await capture.PreflightAsync(runner, TestContext.Current.CancellationToken);

        var error = Assert.Single(errors);
        error.At(12, 15);
        Assert.Equal("pcap filter 'icmp and' does not compile: can't parse filter expression: syntax error", error.Message);
        Assert.All(runner.Commands, c => Assert.Equal(CommandPurpose.Check, c.Purpose));
        var header = runner.Commands[0].Argv[3];
        Assert.Equal(["icmp[icmptype] == icmp-echo", "arp", "icmp and", "arp", "udp port 53"], runner.Commands.Select(c => c.Argv[^1]));
        Assert.All(runner.Commands, c => Assert.Equal(["tcpdump", "-d", "-r", header, "--"], c.Argv[..^1]));
        Assert.False(File.Exists(header)); // the pcap header the filters were compiled against is removed
    }

    [Fact]
    public async Task A_run_compiles_its_filters_with_the_engines_own_runner_before_anything_is_built()
    {
        using var state = new TempDirectory();
        var runner = new RecordingRunner(Tcpdump);
        var engine = new LabEngine(runner, new FakeRuntime("process"), new CompositeObserver(), new LabOptions { StateRoot = state.Path, LabId = "cf0001" });

        var refused = await Assert.ThrowsAsync<ScenarioInvalidException>(
            () => engine.RunAsync(Scenarios.Load(Lab.Replace("never: [icmp]", "never: [\"icmp and\"]")), TestContext.Current.CancellationToken));

        Assert.StartsWith("pcap filter 'icmp and' does not compile", Assert.Single(refused.Errors).Message);
        Assert.All(runner.Displays, d => Assert.StartsWith("tcpdump -d -r ", d));
        Assert.Equal(5, runner.Commands.Count);
        Assert.Empty(Directory.EnumerateFileSystemEntries(state.Path)); // no journal: nothing was built
    }

    [Fact]
    public async Task Every_tcpdump_that_counts_packets_ends_its_options_before_the_filter()
    {
        var runner = new Listing();
        var session = new LabSession("cap001", true, new Uplink("ens3", "192.168.64.6/24"));
        var journal = Journal.LabJournal.InMemory(new Journal.JournalHeader("cap001", 1, 1, "lab.yaml", true, DateTimeOffset.UtcNow));
        var capture = new PacketCapture(session, runner, new PlaceCommands(session, runner, new Runtimes.ProcessRuntime(runner)), journal);
        var expectation = new CaptureExpectation(new CaptureTraffic(Place.Netns("n1"), "10.0.0.1", 1),
            [new CapturePoint("br-0", Place.Host, ["-w/tmp/sees"], ["-w/tmp/never"])]);

        await capture.ObserveAsync(expectation.While, expectation.On, TestContext.Current.CancellationToken);

        var counts = runner.Commands.Where(c => c.Contains("tcpdump -n -r ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, counts.Count); // every packet, then each filter
        Assert.EndsWith(" -- -w/tmp/sees", counts[1]);
        Assert.EndsWith(" -- -w/tmp/never", counts[2]);
    }

    /// <summary>
    /// Plays tcpdump: a capture started with <c>-w FILE</c> writes FILE (on big0, one byte more than a bundle keeps, as a
    /// sparse file), and <c>tcpdump -r</c> counts one packet for every filter but 'udp'. Every other command succeeds.
    /// </summary>
    private sealed class Tcpdumps : ICommandRunner
    {
        public static readonly byte[] Pcap = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 42];

        public List<string> Written { get; } = [];

        public bool IsDryRun => false;

        public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default) =>
            Task.FromResult(argv.Contains("-r") && argv[0] == "tcpdump" && argv[1] == "-n"
                ? RecordingRunner.Ok(argv[^1] == "udp" ? "" : "12:00:00.000000 IP 10.0.0.2 > 10.0.0.1: ICMP echo request\n")
                : RecordingRunner.Ok());

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default)
        {
            var file = argv[argv.ToList().IndexOf("-w") + 1];
            if (argv.Contains("big0"))
            {
                using var big = new FileStream(file, FileMode.CreateNew);
                big.SetLength(Reporting.BugBundle.MaxCaptureBytes + 1);
            }
            else File.WriteAllBytes(file, Pcap);
            Written.Add(file);
            return Task.FromResult<IBackgroundCommand>(new Started());
        }

        private sealed class Started : IBackgroundCommand
        {
            public bool Ready => true;

            public Task<CommandOutcome> StopAsync() => Task.FromResult(RecordingRunner.Ok());
        }
    }

    private const string KeptLab = """
        lab: keep
        steps:
          - title: "3.5 tcpdump"
            expect:
              - capture:
                  while: { ping: { from: host, to: 10.0.0.1, count: 1 } }
                  on:
                    - { link: br-0, sees: [icmp] }
                    - { link: big0, never: [udp] }
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_run_for_a_bundle_keeps_each_pcap_read_before_it_is_deleted_up_to_the_bound_and_its_bundle_carries_it(bool keep)
    {
        Assert.SkipWhen(EnvironmentCheck.FindOnPath("tcpdump") is null, "tcpdump is not installed (the filters are compiled before a run)");
        using var state = new TempDirectory();
        var runner = new Tcpdumps();
        var recorder = new Reporting.RunRecorder();
        var engine = new LabEngine(runner, new FakeRuntime("process"), recorder, new LabOptions { StateRoot = state.Path, LabId = "cf0002", KeepCaptures = keep });

        var result = await engine.RunAsync(Scenarios.Load(KeptLab), TestContext.Current.CancellationToken);

        Assert.Equal(LabOutcome.Passed, result.Outcome);
        Assert.Equal(2, runner.Written.Count);
        Assert.All(runner.Written, f => Assert.False(File.Exists(f), $"{f} is still there")); // deleted after counting, kept or not
        var captures = recorder.Record.Steps[0].Checks[0].Result.Captures;
        if (!keep)
        {
            Assert.Empty(captures);
            return;
        }
        Assert.Equal([(1, "br-0"), (2, "big0")], captures.Select(c => (c.Index, c.Point.Link)));
        Assert.Equal(Tcpdumps.Pcap, captures[0].Pcap);
        Assert.Null(captures[1].Pcap);
        Assert.Equal(Reporting.BugBundle.MaxCaptureBytes + 1, captures[1].Bytes);
        Assert.Equal($"{Reporting.BugBundle.MaxCaptureBytes + 1} bytes, more than the {Reporting.BugBundle.MaxCaptureBytes} a bundle keeps of one capture", captures[1].LeftOut);

        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("lab.yaml"), KeptLab, TestContext.Current.CancellationToken);
        await Reporting.BugBundle.WriteAsync(dir.File("b.tar.gz"), recorder.Record, dir.File("lab.yaml"), new Reporting.BundleManifest("lab.yaml", "process", false, null),
            new RecordingRunner(), TestContext.Current.CancellationToken);
        var (manifest, root) = await Reporting.BugBundle.ExtractAsync(dir.File("b.tar.gz"), dir.File("out"), TestContext.Current.CancellationToken);
        Assert.Equal(Tcpdumps.Pcap, await File.ReadAllBytesAsync(Path.Combine(root, "captures/step-01-capture-1/1-br-0.pcap"), TestContext.Current.CancellationToken));
        Assert.Equal(["captures/step-01-capture-1/1-br-0.pcap", null], manifest.Captures!.Select(c => c.File));
    }

    /// <summary>Runs nothing, as a plan does, but is not a plan: expectations are observed (every command succeeds, prints nothing).</summary>
    private sealed class Listing : ICommandRunner
    {
        private readonly DryRunCommandRunner _inner;

        public Listing() => _inner = new DryRunCommandRunner(e => Commands.Add(e.Display));

        public List<string> Commands { get; } = [];

        public bool IsDryRun => false;

        public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default) => _inner.RunAsync(argv, purpose, ct);

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            _inner.StartAsync(argv, purpose, start, ct);
    }
}
