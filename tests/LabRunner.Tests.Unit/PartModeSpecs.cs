using System.CommandLine;
using System.Text;
using System.Text.Json;
using LabRunner.Cli;
using LabRunner.Cli.Output;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Reporting;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;
using Spectre.Console;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `labrunner part` (issue 14), the controlled part mode a multi-host controller runs on each host: its stdin protocol
/// (line 1 the lab in base64, then go/quit per barrier; the end of input), its lab ids, the awaiting events, and the
/// engine's second barrier between a step's actions and its expectations. Plans only: nothing is made.
/// </summary>
public sealed class PartModeSpecs : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Scenario Part = PartProtocol.LoadLab(Base64("""
        lab: part
        steps:
          - title: "1.1 a namespace"
            actions:
              - netns-add: n1
            expect:
              - ping: { from: n1, to: 127.0.0.1 }
          - title: "1.2 nothing for this host"
        """));

    private readonly TempDirectory _state = new();
    private LiveLab _lab = null!;

    public async ValueTask InitializeAsync()
    {
        var runner = new DryRunCommandRunner();
        _lab = await new LabEngine(runner, new ProcessRuntime(runner), new CompositeObserver(), new LabOptions { LabId = "5c0003-a", StateRoot = _state.Path })
            .StartAsync(Part, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _lab.DisposeAsync();
        _state.Dispose();
    }

    private static string Base64(string yaml) => Convert.ToBase64String(Encoding.UTF8.GetBytes(yaml));

    private sealed class Frozen : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

        public override long GetTimestamp() => 0;
    }

    private static IAnsiConsole Quiet(StringWriter? output = null) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(output ?? TextWriter.Null) });

    private static List<JsonElement> Lines(MemoryStream output) =>
        [.. Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    private StepPause Before(int index, bool expectations = false) => new(_lab, Part.Steps[index], index, Part.Steps.Length) { BeforeExpectations = expectations };

    // --- line 1: the lab ---

    [Fact]
    public void Line_1_is_the_lab_as_base64_of_its_utf8_yaml_a_byte_order_mark_and_a_cr_aside()
    {
        var yaml = "lab: café\nsteps:\n  - title: one\n";
        var withBom = Convert.ToBase64String([.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(yaml)]);

        Assert.Equal(yaml, PartProtocol.DecodeLab(Base64(yaml)));
        Assert.Equal(yaml, PartProtocol.DecodeLab(withBom + "\r"));
        Assert.Equal("café", PartProtocol.LoadLab(Base64(yaml)).Name);
    }

    [Theory]
    [InlineData(null, "standard input ended before its line 1")]
    [InlineData("", "line 1 of standard input is empty")]
    [InlineData("lab: plain yaml", "line 1 of standard input is not base64 ('lab: plain yaml')")]
    [InlineData("//79", "decodes to bytes that are not UTF-8 text")] // ff fe fd
    public void A_line_1_that_is_no_base64_utf8_text_is_a_usage_error_exit_2(string? line, string message)
    {
        var e = Assert.Throws<UsageException>(() => PartProtocol.DecodeLab(line));

        Assert.Contains(message, e.Message);
        Assert.Contains("base64", e.Fix);
    }

    [Fact]
    public void A_line_1_longer_than_the_largest_lab_is_refused_before_decoding()
    {
        var e = Assert.Throws<UsageException>(() => PartProtocol.DecodeLab(new string('A', PartProtocol.MaxLabLine + 4)));

        Assert.Contains("more than the base64 of the largest lab file", e.Message);
    }

    [Fact]
    public void An_invalid_part_is_told_at_part_line_col()
    {
        var e = Assert.Throws<ScenarioInvalidException>(() => PartProtocol.LoadLab(Base64("lab: x\nsteps:\n  - title: one\n    actions:\n      - netns-ad: n1\n")));

        var error = Assert.Single(e.Errors);
        Assert.Equal("<part>:5:9", error.Span.ToString());
        Assert.StartsWith("<part>:5:9: error: unknown action 'netns-ad'", error.ToString());
    }

    [Fact]
    public void A_step_with_neither_actions_nor_expectations_is_a_valid_part_step()
    {
        Assert.Equal(2, Part.Steps.Length);
        Assert.True(Part.Steps[1] is { Actions.Length: 0, Expectations.Length: 0 });
    }

    // --- the barrier lines ---

    [Theory]
    [InlineData("go", PartAnswer.Go)]
    [InlineData(" go \r", PartAnswer.Go)]
    [InlineData("quit", PartAnswer.Quit)]
    [InlineData("quit\r", PartAnswer.Quit)]
    [InlineData(null, PartAnswer.Gone)]
    [InlineData("", PartAnswer.Garbage)]
    [InlineData("GO", PartAnswer.Garbage)]
    [InlineData("q", PartAnswer.Garbage)]
    [InlineData("go go", PartAnswer.Garbage)]
    public void A_barrier_line_is_go_or_quit_and_anything_else_is_a_protocol_error(string? line, PartAnswer answer) =>
        Assert.Equal(answer, PartProtocol.Answer(line));

    // --- lab ids ---

    [Theory]
    [InlineData("3f9a1c-a")]
    [InlineData("a")]
    [InlineData("3f9a1c-host-2")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")] // 32
    public void A_part_lab_id_is_1_to_32_of_a_z_0_9_and_dashes(string id)
    {
        Assert.Null(PartProtocol.CheckLabId(id));
        Assert.True(Journal.LabJournal.IsLabId(id)); // so `labrunner clean` finds what a dead part left by its id
    }

    [Theory]
    [InlineData("")]
    [InlineData("-a")]
    [InlineData("3F9A1C-a")]
    [InlineData("3f9a1c_a")]
    [InlineData("3f9a1c.a")]
    [InlineData("3f9a1c/a")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")] // 33
    public void Any_other_lab_id_is_refused_with_the_form_it_must_have(string id) =>
        Assert.Contains("1 to 32 characters of a-z, 0-9 and '-'", PartProtocol.CheckLabId(id));

    [Theory]
    [InlineData("3F9A1C-a")]
    [InlineData("../etc")]
    public void The_command_line_refuses_a_bad_lab_id_as_a_usage_error(string id)
    {
        var root = Program.CreateRoot(new GuardedConsole(Quiet()));

        var parsed = root.Parse(["part", "--lab-id", id, "--sandbox"]);

        Assert.Contains(parsed.Errors, e => e.Message.Contains("is not a lab id", StringComparison.Ordinal));
        Assert.Empty(root.Parse(["part", "--lab-id", "3f9a1c-a", "--sandbox"]).Errors);
        Assert.NotEmpty(root.Parse(["part", "--sandbox"]).Errors); // --lab-id is required
    }

    // --- barriers ---

    [Fact]
    public void The_awaiting_event_has_the_common_fields_before_and_the_step()
    {
        var output = new MemoryStream();
        var stream = new JsonEventStream(output, new Frozen());
        stream.LabStarting(Part, new LabSession("5c0003-a", sandbox: false, Uplink.Default));

        stream.Awaiting(Before(0));
        stream.Awaiting(Before(1, expectations: true));

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("""{"v":1,"event":"awaiting","time":"2025-01-02T03:04:05.000Z","lab":"part","run":"5c0003-a","before":"step","step":{"number":"1.1","position":1,"count":2,"title":"1.1 a namespace","source":"<part>:3:5"}}""", lines[1]);
        Assert.Equal("""{"v":1,"event":"awaiting","time":"2025-01-02T03:04:05.000Z","lab":"part","run":"5c0003-a","before":"expectations","step":{"number":"1.2","position":2,"count":2,"title":"1.2 nothing for this host","source":"<part>:8:5"}}""", lines[2]);
    }

    [Fact]
    public async Task Each_barrier_writes_awaiting_then_takes_the_next_line_go_runs_on_quit_ends_with_the_controllers_reason()
    {
        var output = new MemoryStream();
        var barriers = new PartBarriers(new StringReader("go\nquit\n"), new JsonEventStream(output, new Frozen()), Quiet());
        barriers.Start(_ => Assert.Fail("the controller is not gone"));

        Assert.Equal(StepGo.Run, await barriers.BeforeStepAsync(Before(0), Ct));
        Assert.Equal(StepGo.Quit, await barriers.BeforeExpectationsAsync(Before(0, expectations: true), Ct));

        Assert.Equal(["step", "expectations"], Lines(output).Select(l => l.GetProperty("before").GetString()));
        Assert.Null(barriers.ProtocolError);
        Assert.Equal("ended at the controller's request before step 1.1", barriers.QuitReason(Before(0)));
        Assert.Equal("ended at the controller's request before the expectations of step 1.1", barriers.QuitReason(Before(0, expectations: true)));
    }

    [Fact]
    public async Task A_line_that_is_neither_go_nor_quit_ends_the_run_as_a_protocol_error()
    {
        var output = new MemoryStream();
        var text = new StringWriter();
        var stream = new JsonEventStream(output, new Frozen());
        var barriers = new PartBarriers(new StringReader("go\nyes please\n"), stream, Quiet(text));
        barriers.Start(_ => Assert.Fail("the controller is not gone"));

        Assert.Equal(StepGo.Run, await barriers.BeforeStepAsync(Before(0), Ct));
        Assert.Equal(StepGo.Quit, await barriers.BeforeStepAsync(Before(1), Ct));

        Assert.Equal("the line 'yes please' is not go or quit", barriers.ProtocolError);
        Assert.Equal("ended at a protocol error before step 1.2: the line 'yes please' is not go or quit", barriers.QuitReason(Before(1)));
        Assert.Contains("error: protocol error at the barrier before step 1.2", text.ToString());
        stream.End(ExitCodes.InvalidInput);
        Assert.Contains("protocol error", Lines(output)[^1].GetProperty("message").GetString());
    }

    [Fact]
    public async Task The_end_of_input_at_a_barrier_calls_gone_and_the_wait_ends_cancelled()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var gone = new List<string>();
        var barriers = new PartBarriers(new StringReader("go\n"), new JsonEventStream(new MemoryStream(), new Frozen()), Quiet());
        barriers.Start(why =>
        {
            lock (gone) gone.Add(why);
            cts.Cancel();
        });

        Assert.Equal(StepGo.Run, await barriers.BeforeStepAsync(Before(0), cts.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => barriers.BeforeExpectationsAsync(Before(0, expectations: true), cts.Token));

        Assert.Equal([PartProtocol.GoneReason], gone); // told once
    }

    [Fact]
    public async Task The_end_of_input_while_a_step_runs_is_noticed_at_once()
    {
        var told = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var barriers = new PartBarriers(new StringReader(""), new JsonEventStream(new MemoryStream(), new Frozen()), Quiet());

        barriers.Start(why => told.TrySetResult(why)); // no barrier is waiting

        Assert.Equal("the controller is gone (end of input)", await told.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task A_quit_sent_just_before_the_end_of_input_is_a_quit_and_after_it_the_end_changes_nothing()
    {
        var gone = 0;
        var barriers = new PartBarriers(new StringReader("quit\n"), new JsonEventStream(new MemoryStream(), new Frozen()), Quiet());
        barriers.Start(_ => Interlocked.Increment(ref gone));
        await Task.Delay(100, Ct); // the reader has seen the end by now, with the quit unread

        Assert.Equal(StepGo.Quit, await barriers.BeforeStepAsync(Before(0), Ct));
        Assert.Equal(0, gone);
    }

    [Fact]
    public async Task A_signal_during_a_wait_ends_it_at_once()
    {
        using var stdin = new AnonymousPipe();
        using var signal = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var barriers = new PartBarriers(stdin.Reader, new JsonEventStream(new MemoryStream(), new Frozen()), Quiet());
        barriers.Start(_ => { });
        var waiting = barriers.BeforeStepAsync(Before(0), signal.Token);

        await Task.Delay(50, Ct);
        Assert.False(waiting.IsCompleted);
        signal.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    /// <summary>A controller that says nothing (and never closes): reads block until the test ends.</summary>
    private sealed class AnonymousPipe : IDisposable
    {
        private readonly System.IO.Pipes.AnonymousPipeServerStream _server = new(System.IO.Pipes.PipeDirection.Out);
        private readonly System.IO.Pipes.AnonymousPipeClientStream _client;

        public AnonymousPipe()
        {
            _client = new System.IO.Pipes.AnonymousPipeClientStream(System.IO.Pipes.PipeDirection.In, _server.ClientSafePipeHandle);
            Reader = new StreamReader(_client);
        }

        public TextReader Reader { get; }

        public void Dispose()
        {
            _server.Dispose(); // the blocked read ends (end of input)
        }
    }

    // --- the engine's second barrier ---

    private static (LabEngine Engine, RunRecorder Recorder) Dry(string state, LabOptions options)
    {
        var recorder = new RunRecorder();
        var runner = new DryRunCommandRunner(recorder.CommandRan);
        return (new LabEngine(runner, new ProcessRuntime(runner, recorder.CommandRan), recorder, options with { LabId = "5c0004-a", StateRoot = state }), recorder);
    }

    [Fact]
    public async Task Every_step_has_two_barriers_in_a_fixed_order_a_step_without_expectations_too()
    {
        using var state = new TempDirectory();
        var seen = new List<string>();
        Task<StepGo> Note(StepPause p, string what)
        {
            seen.Add($"{what} {p.Where}");
            return Task.FromResult(StepGo.Run);
        }
        var (engine, recorder) = Dry(state.Path, new LabOptions { BeforeStep = (p, _) => Note(p, "before"), BeforeExpectations = (p, _) => Note(p, "then") });

        var result = await engine.RunAsync(Part, Ct);

        Assert.Equal(["before step 1.1", "then the expectations of step 1.1", "before step 1.2", "then the expectations of step 1.2"], seen);
        Assert.Equal(ExitCodes.Passed, result.ExitCode());
        Assert.Equal(2, recorder.Record.Steps.Length);
    }

    [Fact]
    public async Task A_quit_before_the_expectations_cuts_the_step_short_tears_down_and_the_rest_is_not_run()
    {
        using var state = new TempDirectory();
        var output = new MemoryStream();
        var stream = new JsonEventStream(output, new Frozen());
        var recorder = new RunRecorder();
        var runner = new DryRunCommandRunner(recorder.CommandRan);
        var engine = new LabEngine(runner, new ProcessRuntime(runner), new CompositeObserver([recorder, stream]), new LabOptions
        {
            LabId = "5c0005-a",
            StateRoot = state.Path,
            BeforeExpectations = (_, _) => Task.FromResult(StepGo.Quit),
            QuitReason = p => $"ended at the controller's request before {p.Where}",
        });

        var result = await engine.RunAsync(Part, Ct);
        stream.End(result.ExitCode());

        Assert.Equal(ExitCodes.Passed, result.ExitCode()); // as --step's q: what ran held
        Assert.Equal("ended at the controller's request before the expectations of step 1.1", result.StoppedEarly);
        Assert.False(Assert.Single(recorder.Record.Steps).Passed); // cut short: its expectations never checked
        Assert.NotEmpty(recorder.Record.TeardownCommands);
        var events = Lines(output);
        Assert.DoesNotContain(events, e => e.GetProperty("event").GetString() == "expectation-finished");
        var finished = events.Single(e => e.GetProperty("event").GetString() == "step-finished");
        Assert.True(finished.GetProperty("interrupted").GetBoolean());
        var notRun = events.Single(e => e.GetProperty("event").GetString() == "step-not-run");
        Assert.Equal("ended at the controller's request before the expectations of step 1.1", notRun.GetProperty("reason").GetString());
        Assert.Equal(1, events[^1].GetProperty("expectations").GetProperty("notRun").GetInt32());
    }

    [Fact]
    public void The_steps_not_run_of_a_part_whose_controller_is_gone_say_so()
    {
        var output = new MemoryStream();
        var stream = new JsonEventStream(output, new Frozen()) { Interruption = PartProtocol.GoneReason };
        stream.LabStarting(Part, new LabSession("5c0006-a", sandbox: false, Uplink.Default));

        stream.LabFinished(new LabResult("5c0006-a", LabOutcome.Interrupted, null, [], new TeardownReport(0, [], []), TimeSpan.Zero));

        Assert.Equal(["the controller is gone (end of input)", "the controller is gone (end of input)"],
            Lines(output).Where(l => l.GetProperty("event").GetString() == "step-not-run").Select(l => l.GetProperty("reason").GetString()));
    }
}
