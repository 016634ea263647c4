using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Reporting;
using LabRunner.Runtimes;
using LabRunner.Tests.Shared;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `run --format json` (issue 15): the run's events as NDJSON for tools, one object a line in the engine's order, ending
/// with the result and its exit code (or one error event when the lab never started); a stream that cannot be written
/// stops the run but never its teardown. docs/EVENTS.md is the vocabulary these specs hold it to.
/// </summary>
public sealed class JsonEventStreamSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>2025-01-02T03:04:05Z, and no time passing: lines that do not change from one run to the next.</summary>
    private sealed class Frozen : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

        public override long GetTimestamp() => 0;
    }

    private static (JsonEventStream Stream, MemoryStream Output) Stream()
    {
        var output = new MemoryStream();
        return (new JsonEventStream(output, new Frozen()), output);
    }

    /// <summary>Every line, parsed: each one a JSON object on its own, newline-terminated, nothing else.</summary>
    private static List<JsonElement> Lines(MemoryStream output)
    {
        var text = Encoding.UTF8.GetString(output.ToArray());
        Assert.EndsWith("\n", text);
        return [.. text[..^1].Split('\n').Select(line =>
        {
            using var document = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
            return document.RootElement.Clone();
        })];
    }

    private static string Event(JsonElement e) => e.GetProperty("event").GetString()!;

    [Fact]
    public void A_commands_standard_input_is_its_input_field_present_only_when_it_had_one()
    {
        var (stream, output) = Stream();
        var ok = new CommandOutcome(0, "", "", TimeSpan.Zero);

        stream.CommandRan(new CommandEvent(CommandPurpose.Action, ["/usr/lib/cni/bridge"], ok) { Input = """{"type":"bridge"}""" });
        stream.CommandRan(new CommandEvent(CommandPurpose.Action, ["ip", "link"], ok));

        var lines = Lines(output);
        Assert.Equal("""{"type":"bridge"}""", lines[0].GetProperty("input").GetString());
        Assert.False(lines[1].TryGetProperty("input", out _));
    }

    [Fact]
    public void A_command_the_netlink_driver_ran_carries_driver_netlink_and_one_run_as_a_process_none()
    {
        var (stream, output) = Stream();
        var ok = new CommandOutcome(0, "", "", TimeSpan.Zero);

        stream.CommandRan(new CommandEvent(CommandPurpose.Action, ["ip", "link", "set", "dev", "veth-1", "up"], ok) { Driver = "netlink" });
        stream.CommandRan(new CommandEvent(CommandPurpose.Check, ["ip", "-j", "link", "show"], ok));

        var lines = Lines(output);
        Assert.Equal("netlink", lines[0].GetProperty("driver").GetString());
        Assert.Equal(1, lines[0].GetProperty("v").GetInt32());   // an added optional field keeps the vocabulary's version
        Assert.False(lines[1].TryGetProperty("driver", out _));
    }

    [Fact]
    public void The_sample_run_streams_every_event_in_order_and_ends_with_its_result()
    {
        var (stream, output) = Stream();

        SampleRun.Play(stream);
        stream.End(ExitCodes.ExpectationFailed);

        var events = Lines(output);
        Assert.Equal(
        [
            "lab-started", "command",
            "step-started", "command", "command", "command", "action-finished", "action-finished", "action-finished", "action-finished", "action-finished",
            "action-finished", "expectation-finished", "topology-observed", "step-finished",
            "step-started", "command", "command", "action-finished", "expectation-finished", "expectation-finished", "topology-observed", "step-finished",
            "teardown-started", "command", "command", "command", "teardown-finished",
            "step-not-run", "result",
        ], events.Select(Event));
        Assert.All(events, e =>
        {
            Assert.Equal(1, e.GetProperty("v").GetInt32());
            Assert.Equal("bridge <lab> & friends", e.GetProperty("lab").GetString());
            Assert.Equal("c0ffee", e.GetProperty("run").GetString());
            Assert.Equal("2025-01-02T03:04:05.000Z", e.GetProperty("time").GetString());
        });

        var setup = events[1];
        Assert.Equal(("sandbox", "setup"), (setup.GetProperty("phase").GetString(), setup.GetProperty("purpose").GetString()));
        Assert.Equal(["ip", "netns", "add", "lr-c0ffee"], setup.GetProperty("argv").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(JsonValueKind.Null, setup.GetProperty("step").ValueKind);

        var started = events.First(e => Event(e) == "step-started" && e.GetProperty("step").GetProperty("position").GetInt32() == 2).GetProperty("step");
        Assert.Equal("3.2", started.GetProperty("number").GetString());
        Assert.Equal(3, started.GetProperty("count").GetInt32());
        Assert.Equal("3.2 busybox-2 <script>alert('x')</script> reaches busybox-1", started.GetProperty("title").GetString());
        Assert.Matches(@"^bridge\.yaml:20:\d+$", started.GetProperty("source").GetString());

        var ping = events.Single(e => Event(e) == "command" && e.GetProperty("purpose").GetString() == "observe");
        Assert.Equal(1, ping.GetProperty("exitCode").GetInt32());
        Assert.Equal("error", ping.GetProperty("error").GetString());
        Assert.Equal("3.2", ping.GetProperty("step").GetProperty("number").GetString());

        var failed = events.Single(e => Event(e) == "expectation-finished" && !e.GetProperty("held").GetBoolean());
        Assert.Equal("ping", failed.GetProperty("keyword").GetString());
        Assert.Matches(@"^bridge\.yaml:\d+:\d+$", failed.GetProperty("source").GetString());
        Assert.Equal("1 packets transmitted, 0 packets received, 100% packet loss", failed.GetProperty("observed").GetString());
        Assert.Equal(48, failed.GetProperty("attempts").GetInt32());
        Assert.Equal(5100, failed.GetProperty("elapsedMs").GetInt64());
        Assert.Equal(SampleRun.Why, failed.GetProperty("why").EnumerateArray().Select(w => w.GetString()));

        var notSeen = events.Where(e => Event(e) == "topology-observed").Last();
        Assert.False(notSeen.GetProperty("seen").GetBoolean());
        Assert.StartsWith("container busybox-2 could not be read", notSeen.GetProperty("missing").GetString());
        var seen = events.First(e => Event(e) == "topology-observed");
        Assert.Contains(seen.GetProperty("places").EnumerateArray().SelectMany(p => p.GetProperty("links").EnumerateArray()),
            l => l.GetProperty("name").GetString() == "veth-2" && l.GetProperty("addresses").EnumerateArray().Any(a => a.GetString() == "172.16.100.101/24"));

        var teardown = events.Single(e => Event(e) == "teardown-finished");
        Assert.True(teardown.GetProperty("clean").GetBoolean());
        Assert.Equal(["ip -n lr-c0ffee link delete veth-1"], teardown.GetProperty("alreadyGone").EnumerateArray().Select(a => a.GetString()));
        Assert.All(events.Where(e => Event(e) == "command" && e.GetProperty("purpose").GetString() == "teardown"), c => Assert.Equal("teardown", c.GetProperty("phase").GetString()));

        var notRun = events.Single(e => Event(e) == "step-not-run");
        Assert.Equal("3.3", notRun.GetProperty("step").GetProperty("number").GetString());
        Assert.Equal(1, notRun.GetProperty("expectations").GetInt32());
        Assert.Equal("ended at the failed step 3.2 busybox-2 <script>alert('x')</script> reaches busybox-1", notRun.GetProperty("reason").GetString());

        var result = events[^1];
        Assert.Equal(ExitCodes.ExpectationFailed, result.GetProperty("exitCode").GetInt32());
        Assert.Equal("failed", result.GetProperty("outcome").GetString());
        Assert.Equal(9300, result.GetProperty("elapsedMs").GetInt64());
        var expectations = result.GetProperty("expectations");
        Assert.Equal((4, 2, 1, 1), (expectations.GetProperty("total").GetInt32(), expectations.GetProperty("held").GetInt32(),
            expectations.GetProperty("failed").GetInt32(), expectations.GetProperty("notRun").GetInt32()));
        var steps = result.GetProperty("steps");
        Assert.Equal((3, 2, 1), (steps.GetProperty("total").GetInt32(), steps.GetProperty("run").GetInt32(), steps.GetProperty("notRun").GetInt32()));
        Assert.Equal(JsonValueKind.Null, result.GetProperty("error").ValueKind);
    }

    /// <summary>The sample run's lines as a tool reads them (the version of labrunner aside): docs/EVENTS.md shows them.</summary>
    [Fact]
    public void The_sample_runs_stream_is_its_golden_file()
    {
        var (stream, output) = Stream();

        SampleRun.Play(stream);
        stream.End(ExitCodes.ExpectationFailed);

        var text = Regex.Replace(Encoding.UTF8.GetString(output.ToArray()), "\"labrunner\":\"[^\"]*\"", "\"labrunner\":\"<version>\"");
        Golden.Verify("sample-run.events.ndjson", text);
    }

    [Fact]
    public void A_lab_that_never_starts_is_one_error_event_with_its_errors_where_they_are_written()
    {
        var (stream, output) = Stream();
        var invalid = Assert.Throws<ScenarioInvalidException>(() => Scenarios.Load("lab: x\nsteps:\n  - title: t\n    actions: [ { netns-ad: n1 } ]\n"));
        stream.File = "lab.yaml";

        stream.Fail(invalid.Message, "1 error(s); nothing was run.", invalid.Errors);
        stream.End(ExitCodes.InvalidInput);
        stream.End(ExitCodes.InvalidInput); // once

        var error = Assert.Single(Lines(output));
        Assert.Equal("error", Event(error));
        Assert.Equal(ExitCodes.InvalidInput, error.GetProperty("exitCode").GetInt32());
        Assert.Equal("lab.yaml", error.GetProperty("file").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("run").ValueKind);
        var first = error.GetProperty("errors")[0];
        Assert.Equal(invalid.Errors[0].Span.ToString(), first.GetProperty("source").GetString());
        Assert.Equal(invalid.Errors[0].Message, first.GetProperty("message").GetString());
        Assert.Equal(invalid.Errors[0].Hint, first.GetProperty("hint").GetString());
    }

    private static readonly Scenario TwoSteps = Scenarios.Load("""
        lab: two
        steps:
          - title: "1.1 one namespace"
            actions:
              - netns-add: n1
            expect:
              - netns: { name: n1 }
          - title: "1.2 another"
            actions:
              - netns-add: n2
            expect:
              - netns: { name: n2 }
        """);

    /// <summary>Runs nothing and tells every command to the observers, as the CLI's runner does.</summary>
    private sealed class Telling(Action<CommandEvent> onCommand) : ICommandRunner
    {
        // `ip netns list` lists what the lab made (the netns expectations hold); everything else succeeds, printing nothing.
        private readonly RecordingRunner _inner = new(argv => argv is ["ip", "netns", "list"] ? RecordingRunner.Ok("lr-e50001-n1\nlr-e50001-n2\n") : RecordingRunner.Ok());

        public bool IsDryRun => false;

        public async Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
        {
            var outcome = await _inner.RunAsync(argv, purpose, ct);
            onCommand(new CommandEvent(purpose, [.. argv], outcome));
            return outcome;
        }

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            _inner.StartAsync(argv, purpose, start, ct);
    }

    [Fact]
    public async Task A_run_of_the_engine_ended_by_until_streams_its_phases_in_order_and_what_it_did_not_run()
    {
        using var state = new TempDirectory();
        var (stream, output) = Stream();
        var observer = new CompositeObserver(stream);
        var engine = new LabEngine(new Telling(observer.CommandRan), new FakeRuntime("process"), observer,
            new LabOptions { LabId = "e50001", StateRoot = state.Path, Until = 0 });

        var result = await engine.RunAsync(TwoSteps, Ct);
        stream.End(result.ExitCode());

        var events = Lines(output);
        var phases = events.Select(e => Event(e) == "command" ? "command:" + e.GetProperty("phase").GetString() : Event(e))
            .Aggregate(new List<string>(), (list, e) =>
            {
                if (list.Count == 0 || list[^1] != e) list.Add(e); // runs of commands as one
                return list;
            });
        Assert.Equal(
        [
            "lab-started", "command:sandbox", "sandbox-ready", "step-started", "command:step", "action-finished", "command:step", "expectation-finished",
            "step-finished", "teardown-started", "command:teardown", "teardown-finished", "step-not-run", "result",
        ], phases);
        var started = events[0];
        Assert.Equal("lr-e50001", started.GetProperty("host").GetString());
        Assert.Equal(2, started.GetProperty("steps").GetInt32());
        Assert.Equal(2, started.GetProperty("expectations").GetInt32());
        Assert.Matches(@"^lab\.yaml:\d+:\d+$", started.GetProperty("source").GetString());
        var action = events.Single(e => Event(e) == "action-finished");
        Assert.Equal(("netns-add", "done", true), (action.GetProperty("keyword").GetString(), action.GetProperty("status").GetString(), action.GetProperty("ok").GetBoolean()));
        Assert.Matches(@"^lab\.yaml:5:\d+$", action.GetProperty("source").GetString());
        Assert.Contains(events, e => Event(e) == "command" && e.GetProperty("phase").GetString() == "step" &&
                                     e.GetProperty("purpose").GetString() == "action" && e.GetProperty("step").GetProperty("position").GetInt32() == 1);
        var notRun = events.Single(e => Event(e) == "step-not-run");
        Assert.Equal("ended after step 1.1 (--until)", notRun.GetProperty("reason").GetString());
        var end = events[^1];
        Assert.Equal(("result", 0, "passed", "ended after step 1.1 (--until)"),
            (Event(end), end.GetProperty("exitCode").GetInt32(), end.GetProperty("outcome").GetString(), end.GetProperty("stoppedEarly").GetString()));
        Assert.Equal(1, end.GetProperty("expectations").GetProperty("notRun").GetInt32());
        Assert.True(end.GetProperty("clean").GetBoolean());
    }

    /// <summary>Standard output that fails (the reader closed its end of the pipe, a full disk) after some bytes.</summary>
    private sealed class Failing(int after) : Stream
    {
        public int Written { get; private set; }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Written + buffer.Length > after) throw new IOException("Broken pipe");
            Written += buffer.Length;
        }

        public override void Flush() { }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Written;

        public override long Position { get => Written; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private sealed class Teardowns : LabObserver
    {
        public List<string> Events { get; } = [];

        public override void CommandRan(CommandEvent command)
        {
            if (command.Purpose == CommandPurpose.Teardown) Events.Add("teardown command");
        }

        public override void TeardownFinished(TeardownReport report) => Events.Add("teardown finished");
    }

    [Fact]
    public async Task A_stream_that_cannot_be_written_stops_the_run_and_the_teardown_still_runs_to_the_end()
    {
        using var state = new TempDirectory();
        var stdout = new Failing(after: 2000);
        var stream = new JsonEventStream(stdout);
        var teardowns = new Teardowns();
        var observers = new CompositeObserver(stream, teardowns);
        var runner = new DryRunCommandRunner(observers.CommandRan);
        var engine = new LabEngine(runner, new ProcessRuntime(runner, observers.CommandRan), observers, new LabOptions { LabId = "e50002", StateRoot = state.Path });

        var problem = await Assert.ThrowsAsync<EnvironmentProblemException>(() => engine.RunAsync(ScenarioLoader.LoadFile(Repo.Article("01-veth-bridge.yaml")), Ct));
        var written = stdout.Written;
        stream.End(ExitCodes.Environment); // never throws, writes nothing more

        Assert.Contains("the run's output could not be written (Broken pipe)", problem.Message);
        Assert.Contains("teardown command", teardowns.Events);
        Assert.Equal("teardown finished", teardowns.Events[^1]);
        Assert.Equal(written, stdout.Written);
        Assert.True(written is > 0 and <= 2000, $"{written} bytes: whole lines only, then nothing");
    }

    [Fact]
    public void After_its_terminal_hung_up_the_stream_writes_nothing_and_never_throws()
    {
        var stdout = new Failing(after: 0);
        var stream = new JsonEventStream(stdout);
        stream.Detach();

        SampleRun.Play(stream);
        stream.End(ExitCodes.HungUp);

        Assert.Equal(0, stdout.Written);
    }
}
