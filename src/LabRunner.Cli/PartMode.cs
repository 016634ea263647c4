using LabRunner.Execution;
using LabRunner.Model;
using System.Text;
using System.Threading.Channels;
using LabRunner.Engine;
using LabRunner.Loading;
using LabRunner.Reporting;
using Spectre.Console;

namespace LabRunner.Cli;

/// <summary>What the controller answered at a barrier of <c>labrunner part</c>.</summary>
public enum PartAnswer
{
    /// <summary><c>go</c>: run on to the next barrier.</summary>
    Go,
    /// <summary><c>quit</c>: end the run here, torn down (as --step's q).</summary>
    Quit,
    /// <summary>The end of standard input: the controller died or its ssh connection dropped.</summary>
    Gone,
    /// <summary>Any other line: a protocol error (exit 2, after the teardown).</summary>
    Garbage,
}

/// <summary>
/// The wire protocol of <c>labrunner part</c>, the controlled part mode (README "labrunner part", docs/ARCHITECTURE.md
/// §13): a controller runs one part of a multi-host lab on each host over <c>ssh HOST -- labrunner part ...</c> and keeps
/// the hosts in lock-step through its standard input and output. Standard input: line 1 is the part's lab file, base64 of
/// its UTF-8 YAML (no file is written on the host; its errors are told as <c>&lt;part&gt;:line:col</c>), then one line
/// per barrier, <c>go</c> or <c>quit</c>. Standard output: the NDJSON events of <c>run --format json</c>, with an
/// <c>awaiting</c> event at each barrier (docs/EVENTS.md).
/// </summary>
public static class PartProtocol
{
    /// <summary>The name the part's lab file goes by in errors and events (<c>&lt;part&gt;:4:16</c>).</summary>
    public const string FileName = "<part>";

    public const string Go = "go";
    public const string Quit = "quit";

    /// <summary>Why a part run ended when its standard input ended (exit 129, as an ssh hang-up).</summary>
    public const string GoneReason = "the controller is gone (end of input)";

    /// <summary>The longest line 1 can be: the base64 of the largest lab file the loader takes.</summary>
    public static int MaxLabLine => (ScenarioLoader.MaxFileBytes + 2) / 3 * 4;

    /// <summary>
    /// Null when <paramref name="id"/> can be a part's lab id (the controller's: lab id, '-', host name, e.g. 3f9a1c-a):
    /// 1 to 32 of a-z, 0-9 and '-', the first a letter or digit (so it is never read as an option); else why not.
    /// </summary>
    public static string? CheckLabId(string? id) =>
        id is not null && Journal.LabJournal.IsLabId(id) ? null
            : $"--lab-id '{id}' is not a lab id: 1 to 32 characters of a-z, 0-9 and '-', the first a letter or digit (e.g. 3f9a1c-a)";

    /// <summary>
    /// Line 1 of standard input: the part's lab file as YAML text. Null (the input ended at once), text that is not
    /// base64, or bytes that are not UTF-8 are a <see cref="UsageException"/> (exit 2, nothing touched).
    /// </summary>
    public static string DecodeLab(string? line)
    {
        const string fix = "the controller writes the part's lab file on line 1 of standard input, base64 of its UTF-8 YAML on one line (base64 -w0 lab.yaml)";
        if (line is null) throw new UsageException("standard input ended before its line 1, the part's lab file", fix);
        line = line.Trim();
        if (line.Length == 0) throw new UsageException("line 1 of standard input is empty; it must be the part's lab file", fix);
        if (line.Length > MaxLabLine)
            throw new UsageException($"line 1 of standard input is {line.Length} characters, more than the base64 of the largest lab file ({ScenarioLoader.MaxFileBytes} bytes)", fix);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(line);
        }
        catch (FormatException)
        {
            throw new UsageException($"line 1 of standard input is not base64 ('{Shorten(line)}')", fix);
        }
        // A UTF-8 byte order mark (as some editors write) is not part of the text, as in a lab file.
        var start = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException)
        {
            throw new UsageException("line 1 of standard input decodes to bytes that are not UTF-8 text", fix);
        }
    }

    /// <summary>The part's lab, from line 1 (<see cref="DecodeLab"/>), loaded and checked as a lab file is (<c>&lt;part&gt;:line:col</c> errors).</summary>
    public static Model.Scenario LoadLab(string? line) => ScenarioLoader.Load(DecodeLab(line), FileName);

    /// <summary>A barrier's line: <c>go</c> or <c>quit</c> (spaces and a CR around it ignored); null is the end of input.</summary>
    public static PartAnswer Answer(string? line) => line?.Trim() switch
    {
        null => PartAnswer.Gone,
        Go => PartAnswer.Go,
        Quit => PartAnswer.Quit,
        _ => PartAnswer.Garbage,
    };

    /// <summary>'ping FROM TO COUNT' at a barrier: run another host's capture traffic from a place of this part; else null.</summary>
    public static (string From, string To, int Count)? PingRequest(string? line) =>
        line?.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["ping", var from, var to, var count] && int.TryParse(count, out var n) && n is >= 1 and <= 20
            ? (from, to, n) : null;

    /// <summary>A line as quoted in a message: at most 40 characters, control characters shown as '?'.</summary>
    public static string Shorten(string line)
    {
        var shown = new string([.. line.Take(40).Select(c => char.IsControl(c) ? '?' : c)]);
        return line.Length > 40 ? shown + "…" : shown;
    }
}

/// <summary>
/// The barriers of one <c>labrunner part</c> run: before each step and between its actions and expectations, an
/// <c>awaiting</c> event, then the controller's next line (<see cref="PartProtocol.Answer"/>). Lines are read by a
/// thread of its own from the start, so the end of input is noticed at once, also while a step runs: the run is then
/// stopped after its current command and torn down (exit 129), as on SIGHUP. A signal during a wait ends the wait at once.
/// </summary>
public sealed class PartBarriers(TextReader input, JsonEventStream events, IAnsiConsole console) : LabObserver
{
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Lock _gate = new();
    private Action<string>? _gone;
    private int _unread;
    private bool _ended; // the run ends anyway (quit, a protocol error, teardown): the end of input changes nothing
    private bool _toldGone;

    /// <summary>What the controller sent that is not the protocol, once it has (the run then ends with exit 2).</summary>
    public string? ProtocolError { get; private set; }

    /// <summary>
    /// Starts reading the barrier lines (after line 1). <paramref name="gone"/> is called once, with why, when the
    /// controller is gone (the end of input, or standard output closed): it must stop the run (cancel it).
    /// </summary>
    public void Start(Action<string> gone)
    {
        _gone = gone;
        // Console input blocks its reader and ignores tokens: a thread of its own, left blocked at exit (a background thread).
        new Thread(ReadLines) { IsBackground = true, Name = "part stdin" }.Start();
    }

    private void ReadLines()
    {
        while (true)
        {
            string? line;
            try
            {
                line = input.ReadLine();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                line = null;
            }
            bool goneNow;
            lock (_gate)
            {
                if (line is not null)
                {
                    _unread++;
                    _lines.Writer.TryWrite(line);
                    continue;
                }
                _lines.Writer.TryComplete();
                // Lines sent before the end are answered first (a quit then EOF is a quit); a wait notices the end itself.
                goneNow = _unread == 0 && !_ended;
            }
            if (goneNow) Gone(PartProtocol.GoneReason);
            return;
        }
    }

    private void Gone(string why)
    {
        lock (_gate)
        {
            if (_toldGone || _ended) return;
            _toldGone = true;
        }
        _gone?.Invoke(why);
    }

    public Task<StepGo> BeforeStepAsync(StepPause pause, CancellationToken ct) => AwaitAsync(pause, ct);

    public Task<StepGo> BeforeExpectationsAsync(StepPause pause, CancellationToken ct) => AwaitAsync(pause, ct);

    /// <summary>Why the run ended at a barrier that answered quit: the controller asked, or it broke the protocol.</summary>
    public string QuitReason(StepPause pause) =>
        ProtocolError is { } error ? $"ended at a protocol error before {pause.Where}: {error}" : $"ended at the controller's request before {pause.Where}";

    private async Task<StepGo> AwaitAsync(StepPause pause, CancellationToken ct)
    {
        try
        {
            events.Awaiting(pause);
        }
        catch (IOException)
        {
            Gone("the controller is gone (its end of standard output is closed)");
            await StoppedAsync(ct);
        }
        string? line;
        while (true)
        {
            line = await NextLineAsync(ct);
            // At a barrier the controller may ask for another host's capture traffic first: 'ping FROM TO COUNT'.
            if (PartProtocol.PingRequest(line) is not { } ping) break;
            var outcome = await pause.Lab.PingFromAsync(ping.From, ping.To, ping.Count, ct);
            events.TrafficFinished(outcome);
        }
        switch (PartProtocol.Answer(line))
        {
            case PartAnswer.Go:
                return StepGo.Run;
            case PartAnswer.Quit:
                lock (_gate) _ended = true;
                console.MarkupLine($"[yellow]quit before {Markup.Escape(pause.Where)}, at the controller's request: tearing the lab down[/]");
                return StepGo.Quit;
            case PartAnswer.Garbage:
                lock (_gate) _ended = true;
                ProtocolError = $"the line '{PartProtocol.Shorten(line!)}' is not {PartProtocol.Go} or {PartProtocol.Quit}";
                var message = $"error: protocol error at the barrier before {pause.Where}: {ProtocolError}";
                const string fix = "after each awaiting event the controller writes one line: go, or quit; the part was torn down";
                events.Fail(message, fix);
                console.MarkupLine($"[red]{Markup.Escape(message)}[/]");
                console.MarkupLine($"[grey]{Markup.Escape(fix)}[/]");
                return StepGo.Quit;
            default:
                Gone(PartProtocol.GoneReason);
                await StoppedAsync(ct);
                return StepGo.Quit; // not reached: StoppedAsync throws
        }
    }

    private async Task<string?> NextLineAsync(CancellationToken ct)
    {
        try
        {
            var line = await _lines.Reader.ReadAsync(ct);
            lock (_gate) _unread--;
            return line;
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>
    /// A capture of this part whose ping runs on another host (<see cref="LabOptions.OtherHostTraffic"/>): with its
    /// tcpdumps listening, an <c>awaiting</c> event (<c>before: "traffic"</c>), then the controller's
    /// <c>done EXIT BASE64-STDOUT</c> once that host has pinged. The end of input is the controller gone, as at a barrier.
    /// </summary>
    public async Task<CommandOutcome> OtherHostTrafficAsync(CaptureTraffic traffic, CancellationToken ct)
    {
        events.AwaitingTraffic(traffic);
        var line = await NextLineAsync(ct);
        if (line is null)
        {
            Gone(PartProtocol.GoneReason);
            await StoppedAsync(ct);
        }
        var words = line!.Trim().Split(' ', 3);
        if (words is ["done", var code, ..] && int.TryParse(code, out var exit))
        {
            var stdout = words.Length == 3 ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(words[2])) : "";
            return new CommandOutcome(exit, stdout, exit == 0 ? "" : $"the ping on host {traffic.OnHost} exited {exit}", TimeSpan.Zero);
        }
        return new CommandOutcome(2, "", $"the controller answered '{PartProtocol.Shorten(line)}', not 'done EXIT OUTPUT', for the ping on host {traffic.OnHost}", TimeSpan.Zero);
    }

    /// <summary>
    /// Waits for the run to be cancelled, then throws as a cancelled wait does: the one told the controller is gone (by
    /// us, or by the reader a moment before) cancels it, or a signal that came first has.
    /// </summary>
    private static async Task StoppedAsync(CancellationToken ct)
    {
        await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        throw new OperationCanceledException(ct);
    }

    /// <summary>From the teardown on, the end of input changes nothing: the controller may close it once the steps are over.</summary>
    public override void TeardownStarting(int records)
    {
        lock (_gate) _ended = true;
    }
}
