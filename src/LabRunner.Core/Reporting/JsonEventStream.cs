using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;

namespace LabRunner.Reporting;

/// <summary>
/// The run's events for tools (<c>run --format json</c>): NDJSON, one JSON object a line, written and flushed as each
/// event happens. The vocabulary (<see cref="Version"/> 1) is documented in docs/EVENTS.md; every object has
/// <c>v</c>, <c>event</c>, <c>time</c>, <c>lab</c> and <c>run</c>. A stream ends with exactly one of <c>result</c> (the
/// lab started: its exit code and counts) or <c>error</c> (it could not start: invalid lab, usage, environment), written
/// by <see cref="End"/>, which the caller calls with the process's exit code.
/// </summary>
/// <remarks>
/// Writing is synchronous, in the engine's order. A write that fails (the reader closed the pipe, a full disk) throws
/// once: <see cref="CompositeObserver"/> keeps that from the other observers and the teardown, and the engine stops the
/// run, tears it down and says why (exit 3), as for the console; nothing more is written after it. After
/// <see cref="Detach"/> (SIGHUP, with standard output a terminal) nothing is written and nothing throws.
/// </remarks>
public sealed class JsonEventStream : LabObserver
{
    /// <summary>The vocabulary's version, the <c>v</c> of every event: a field added keeps it, a field changed or removed bumps it.</summary>
    public const int Version = 1;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Stream _output;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private volatile bool _broken;
    private volatile bool _detached;
    private bool _ended;
    private string? _run;
    private Scenario? _scenario;
    private string _phase = "preflight";
    private Step? _step;
    private int _stepIndex;
    private int _stepCount;
    private long _stepStarted;
    private bool _stepOpen;
    private int _stepsStarted;
    private int _checked;
    private int _held;
    private LabResult? _result;
    private (string Message, string? Fix, IReadOnlyList<ScenarioError> Errors)? _problem;

    /// <param name="output">Where the lines go (standard output); never closed here.</param>
    /// <param name="time">The clock of <c>time</c> and of a step's <c>elapsedMs</c> (tests give a fixed one).</param>
    public JsonEventStream(Stream output, TimeProvider? time = null)
    {
        _output = output;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The lab's name, once it is loaded (before the run: an <c>error</c> event then names it too).</summary>
    public string? Lab { get; set; }

    /// <summary>The lab file as given (for <c>replay</c>, the bundle).</summary>
    public string? File { get; set; }

    /// <summary>The container runtime the run uses.</summary>
    public string? Runtime { get; set; }

    /// <summary>A plan (<c>replay --plan</c>): every command is listed, none run.</summary>
    public bool Plan { get; set; }

    /// <summary>
    /// Why an interrupted run ended, when no signal did (<c>labrunner part</c>: "the controller is gone (end of input)"):
    /// the <c>reason</c> of each <c>step-not-run</c>. Null: "ended by a signal".
    /// </summary>
    public string? Interruption { get; set; }

    /// <summary>
    /// <c>awaiting</c> (<c>labrunner part</c>): the run waits at a barrier for its controller's next line, before
    /// <paramref name="pause"/>'s step or, with <see cref="StepPause.BeforeExpectations"/>, before its expectations.
    /// </summary>
    public void Awaiting(StepPause pause) =>
        Emit("awaiting", w =>
        {
            w.WriteString("before", pause.BeforeExpectations ? "expectations" : "step");
            WriteStep(w, pause.Step, pause.Index, pause.Count);
        });

    /// <summary>
    /// A host's part waits, its captures listening, for a ping another host runs (a cross-host capture,
    /// docs/MULTI-HOST.md): <c>awaiting</c> with <c>before: "traffic"</c> and the ping.
    /// </summary>
    public void AwaitingTraffic(CaptureTraffic traffic) =>
        Emit("awaiting", w =>
        {
            w.WriteString("before", "traffic");
            w.WriteStartObject("traffic");
            w.WriteString("on", traffic.OnHost);
            w.WriteString("from", traffic.From.Name);
            w.WriteString("to", traffic.To);
            w.WriteNumber("count", traffic.Count);
            w.WriteEndObject();
        });

    /// <summary>The ping the controller asked this host's part to run for another host's capture, as it ended.</summary>
    public void TrafficFinished(CommandOutcome ping) =>
        Emit("traffic-finished", w =>
        {
            w.WriteNumber("exitCode", ping.ExitCode);
            w.WriteString("stdout", ping.Stdout);
            w.WriteString("error", ping.Succeeded ? null : ping.Error);
        });

    /// <summary>Standard output (a terminal) hung up: write nothing more, and never throw.</summary>
    public void Detach() => _detached = true;

    /// <summary>
    /// What stopped the command, as told on standard error (<paramref name="message"/>, <paramref name="fix"/>, and a lab
    /// file's errors with their positions): the <c>error</c> event, or the <c>error</c> of the <c>result</c>, says it.
    /// </summary>
    public void Fail(string message, string? fix, IReadOnlyList<ScenarioError>? errors = null)
    {
        lock (_gate) _problem ??= (message, fix, errors ?? []);
    }

    public override void LabStarting(Scenario scenario, LabSession session)
    {
        _scenario = scenario;
        _run = session.LabId;
        Lab = scenario.Name;
        _phase = "sandbox";
        Emit("lab-started", w =>
        {
            w.WriteString("file", File);
            w.WriteBoolean("plan", Plan);
            w.WriteBoolean("sandbox", session.Sandbox);
            w.WriteString("host", session.HostNetns);
            w.WriteString("runtime", Runtime);
            w.WriteNumber("steps", scenario.Steps.Length);
            w.WriteNumber("expectations", Expectations(scenario));
            w.WriteString("source", Source(scenario.Span));
            w.WriteString("labrunner", BugBundle.Version);
        });
    }

    public override void SandboxReady(LabSession session)
    {
        _phase = "between";
        Emit("sandbox-ready", w => w.WriteString("host", session.HostNetns));
    }

    public override void StepStarting(Step step, int index, int count)
    {
        _step = step;
        _stepIndex = index;
        _stepCount = count;
        _stepOpen = true;
        _stepsStarted = Math.Max(_stepsStarted, index + 1);
        _stepStarted = _time.GetTimestamp();
        _phase = "step";
        Emit("step-started", w => WriteStep(w, step, index, count));
    }

    public override void CommandRan(CommandEvent command)
    {
        var phase = _phase;
        var inStep = phase == "step";
        Emit("command", w =>
        {
            w.WriteString("phase", phase);
            if (inStep) WriteStepRef(w);
            else w.WriteNull("step");
            w.WriteString("purpose", command.Purpose.ToString().ToLowerInvariant());
            w.WriteStartArray("argv");
            foreach (var arg in command.Argv) w.WriteStringValue(arg);
            w.WriteEndArray();
            if (command.Input is not null) w.WriteString("input", command.Input); // a CNI plugin's config: only when it had one
            if (command.Driver is not null) w.WriteString("driver", command.Driver); // run in-process (netlink): only then
            w.WriteNumber("exitCode", command.Outcome.ExitCode);
            w.WriteNumber("durationMs", Ms(command.Outcome.Duration));
            w.WriteString("error", command.Outcome.Succeeded ? null : command.Outcome.Error);
        });
    }

    public override void ActionFinished(LabAction action, ActionOutcome outcome) =>
        Emit("action-finished", w =>
        {
            WriteStepRef(w);
            w.WriteString("keyword", action.Keyword);
            w.WriteString("source", Source(action.Span));
            w.WriteString("status", Kebab(outcome.Status.ToString()));
            w.WriteBoolean("ok", outcome.Ok);
            w.WriteString("expectedError", action.ExpectedError);
            w.WriteString("observed", outcome.Observed);
        });

    public override void ExpectationFinished(Expectation expectation, ExpectationResult result)
    {
        _checked++;
        if (result.Held) _held++;
        Emit("expectation-finished", w =>
        {
            WriteStepRef(w);
            w.WriteString("keyword", expectation.Keyword);
            w.WriteString("source", Source(expectation.Span));
            w.WriteBoolean("held", result.Held);
            w.WriteString("expected", result.Expected);
            w.WriteString("observed", result.Observed);
            w.WriteNumber("attempts", result.Attempts);
            w.WriteNumber("elapsedMs", Ms(result.Elapsed));
            w.WriteNumber("withinMs", Ms(expectation.Within));
            Strings(w, "why", result.Diagnosis);
        });
    }

    public override void TopologyObserved(Step step, TopologyObservation observation) =>
        Emit("topology-observed", w =>
        {
            WriteStepRef(w);
            w.WriteBoolean("seen", observation.Topology is not null);
            w.WriteString("missing", observation.Missing);
            w.WriteStartArray("places");
            foreach (var place in observation.Topology?.Places ?? [])
            {
                w.WriteStartObject();
                w.WriteString("key", place.Key);
                w.WriteString("label", place.Label);
                w.WriteStartArray("links");
                foreach (var link in place.Links)
                {
                    w.WriteStartObject();
                    w.WriteString("name", link.Name);
                    w.WriteNumber("index", link.Index);
                    w.WriteString("kind", link.Kind);
                    w.WriteString("master", link.Master);
                    w.WriteString("peer", link.PeerName);
                    if (link.PeerIndex is { } peerIndex) w.WriteNumber("peerIndex", peerIndex);
                    else w.WriteNull("peerIndex");
                    w.WriteBoolean("peerElsewhere", link.PeerElsewhere);
                    Strings(w, "addresses", link.Addresses);
                    w.WriteBoolean("up", link.Up);
                    w.WriteString("state", link.State);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        });

    public override void StepFinished(Step step, bool passed) => FinishStep(step, passed, interrupted: false);

    private void FinishStep(Step step, bool passed, bool interrupted)
    {
        _stepOpen = false;
        var elapsed = _time.GetElapsedTime(_stepStarted);
        Emit("step-finished", w =>
        {
            WriteStep(w, step, _stepIndex, _stepCount);
            w.WriteBoolean("passed", passed);
            w.WriteBoolean("interrupted", interrupted);
            w.WriteNumber("elapsedMs", Ms(elapsed));
        });
        _phase = "between";
    }

    public override void TeardownStarting(int records)
    {
        // A step cut short (a signal, an error) never finishes: say so before the teardown.
        if (_stepOpen && _step is not null) FinishStep(_step, passed: false, interrupted: true);
        _phase = "teardown";
        Emit("teardown-started", w => w.WriteNumber("records", records));
    }

    public override void Noticed(Step step, string message) => Emit("notice", w => w.WriteString("message", message));

    public override void TeardownFinished(TeardownReport report) =>
        Emit("teardown-finished", w =>
        {
            w.WriteNumber("undone", report.Undone);
            w.WriteNumber("settled", report.Settled);
            w.WriteBoolean("clean", report.Clean);
            w.WriteNumber("elapsedMs", Ms(report.Elapsed));
            Strings(w, "alreadyGone", report.AlreadyGone);
            Strings(w, "problems", report.Problems);
            Strings(w, "leftovers", report.Leftovers);
        });

    /// <summary>The steps that never ran, one <c>step-not-run</c> each, with why; the <c>result</c> follows from <see cref="End"/>.</summary>
    public override void LabFinished(LabResult result)
    {
        _result = result;
        if (_scenario is not { } scenario) return;
        var reason = NotRunReason(result);
        for (var i = _stepsStarted; i < scenario.Steps.Length; i++)
        {
            var (step, index) = (scenario.Steps[i], i);
            Emit("step-not-run", w =>
            {
                WriteStep(w, step, index, scenario.Steps.Length);
                w.WriteNumber("expectations", step.Expectations.Length);
                w.WriteString("reason", reason);
            });
        }
    }

    private string NotRunReason(LabResult result) =>
        result.StoppedEarly
        ?? (result.Outcome == LabOutcome.Interrupted ? Interruption ?? "ended by a signal"
            : result.FailedStep is { } failed ? $"ended at the failed step {failed}"
            : "ended by an error");

    /// <summary>
    /// The stream's last line, once (later calls do nothing): <c>result</c> when the lab started, with the process's
    /// <paramref name="exitCode"/>; otherwise <c>error</c>, with what <see cref="Fail"/> was told (or
    /// <paramref name="message"/>). Never throws: an exit code says the rest. It waits for a write under way at most
    /// <paramref name="wait"/> (a third Ctrl-C must not hang on a blocked reader).
    /// </summary>
    public void End(int exitCode, string? message = null, string? fix = null, TimeSpan? wait = null)
    {
        if (!_gate.TryEnter(wait ?? Timeout.InfiniteTimeSpan)) return;
        try
        {
            if (_ended) return;
            _ended = true;
            if (message is not null) _problem ??= (message, fix, []);
            if (_scenario is null) WriteError(exitCode);
            else WriteResult(exitCode);
        }
        finally
        {
            _gate.Exit();
        }
    }

    private void WriteError(int exitCode) =>
        Write("error", w =>
        {
            w.WriteNumber("exitCode", exitCode);
            w.WriteString("file", File);
            w.WriteString("message", _problem?.Message ?? "the run did not start");
            w.WriteString("fix", _problem?.Fix);
            w.WriteStartArray("errors");
            foreach (var e in _problem?.Errors ?? [])
            {
                w.WriteStartObject();
                w.WriteString("source", Source(e.Span));
                w.WriteString("message", e.Message);
                w.WriteString("hint", e.Hint);
                w.WriteString("code", e.Code);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }, throwOnFailure: false);

    private void WriteResult(int exitCode)
    {
        var scenario = _scenario!;
        var result = _result;
        var total = Math.Max(Expectations(scenario), _checked);
        Write("result", w =>
        {
            w.WriteNumber("exitCode", exitCode);
            // No LabResult: the teardown was abandoned (a third Ctrl-C), the journal kept.
            w.WriteString("outcome", result is null ? "abandoned" : result.Outcome.ToString().ToLowerInvariant());
            w.WriteBoolean("plan", Plan);
            w.WriteNumber("elapsedMs", result is null ? 0 : Ms(result.Elapsed));
            w.WriteString("failedStep", result?.FailedStep);
            Strings(w, "failures", result?.Failures ?? []);
            w.WriteString("stoppedEarly", result?.StoppedEarly);
            w.WriteStartObject("steps");
            w.WriteNumber("total", scenario.Steps.Length);
            w.WriteNumber("run", Math.Min(_stepsStarted, scenario.Steps.Length));
            w.WriteNumber("notRun", Math.Max(0, scenario.Steps.Length - _stepsStarted));
            w.WriteEndObject();
            w.WriteStartObject("expectations");
            w.WriteNumber("total", total);
            w.WriteNumber("held", _held);
            w.WriteNumber("failed", _checked - _held);
            w.WriteNumber("notRun", total - _checked);
            w.WriteEndObject();
            w.WriteBoolean("clean", result?.Teardown.Clean ?? false);
            Strings(w, "leftovers", result?.Teardown.Leftovers ?? []);
            if (_problem is { } problem)
            {
                w.WriteStartObject("error");
                w.WriteString("message", problem.Message);
                w.WriteString("fix", problem.Fix);
                w.WriteEndObject();
            }
            else w.WriteNull("error");
        }, throwOnFailure: false);
    }

    private void Emit(string name, Action<Utf8JsonWriter> fields)
    {
        lock (_gate)
        {
            if (_ended) return;
            Write(name, fields, throwOnFailure: true);
        }
    }

    /// <summary>One line: the common fields, the event's own, a newline; written and flushed at once. Under the lock.</summary>
    private void Write(string name, Action<Utf8JsonWriter> fields, bool throwOnFailure)
    {
        if (_broken || _detached) return;
        _buffer.ResetWrittenCount();
        using (var w = new Utf8JsonWriter(_buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteNumber("v", Version);
            w.WriteString("event", name);
            w.WriteString("time", _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteString("lab", Lab);
            w.WriteString("run", _run);
            fields(w);
            w.WriteEndObject();
        }
        _buffer.Write("\n"u8);
        try
        {
            _output.Write(_buffer.WrittenSpan);
            _output.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException)
        {
            _broken = true; // nothing more is written: half a line would be worse than none
            if (throwOnFailure && !_detached) throw new IOException($"the event stream (--format json) could not be written: {e.Message}", e);
        }
    }

    /// <summary>The step an action, a check or a command belongs to: its own number and its position.</summary>
    private void WriteStepRef(Utf8JsonWriter w)
    {
        if (_step is null)
        {
            w.WriteNull("step");
            return;
        }
        w.WriteStartObject("step");
        w.WriteString("number", _step.Number);
        w.WriteNumber("position", _stepIndex + 1);
        w.WriteEndObject();
    }

    private static void WriteStep(Utf8JsonWriter w, Step step, int index, int count)
    {
        w.WriteStartObject("step");
        w.WriteString("number", step.Number);
        w.WriteNumber("position", index + 1);
        w.WriteNumber("count", count);
        w.WriteString("title", step.Title);
        w.WriteString("source", Source(step.Span));
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values) w.WriteStringValue(value);
        w.WriteEndArray();
    }

    private static int Expectations(Scenario scenario) => scenario.Steps.Sum(s => s.Expectations.Length);

    /// <summary>file:line:col, or null for an element made in code without a position.</summary>
    private static string? Source(SourceSpan span) => span.Line > 0 ? span.ToString() : null;

    private static long Ms(TimeSpan time) => (long)Math.Round(time.TotalMilliseconds, MidpointRounding.AwayFromZero);

    /// <summary>FailedAsExpected → failed-as-expected.</summary>
    private static string Kebab(string name) =>
        string.Concat(name.Select((ch, i) => char.IsUpper(ch) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(ch) : ch.ToString()));
}
