using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using CliWrap;
using LabRunner.Execution;

namespace LabRunner.MultiHost;

/// <summary>
/// One host's part of a lab across hosts, as the controller sees it: <c>ssh HOST -- labrunner part ...</c> running,
/// its standard input a queue of lines (the part, then <c>go</c>/<c>quit</c> at each barrier), its standard output the
/// part's events (NDJSON, docs/EVENTS.md) read line by line. Closing the input is how the host learns the controller
/// is gone (end of input: it tears down): <see cref="CloseInput"/>, or the controller's death closes it.
/// </summary>
internal sealed class PartSession
{
    private readonly Channel<string> _input = Channel.CreateUnbounded<string>();
    private readonly Channel<JsonElement> _events = Channel.CreateUnbounded<JsonElement>();
    private readonly StringBuilder _stderr = new();
    private readonly Task<CliWrap.CommandResult> _process;

    public PartSession(InventoryHost host, IReadOnlyList<string> argv)
    {
        Host = host;
        // setsid: the terminal's Ctrl-C reaches the controller only, which then ends the parts in order (end of input).
        var detached = Sessions.Detached(argv);
        _process = Cli.Wrap(detached[0]).WithArguments(detached.Skip(1))
            .WithStandardInputPipe(PipeSource.Create(async (stream, ct) =>
            {
                await foreach (var line in _input.Reader.ReadAllAsync(ct))
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), ct);
                    await stream.FlushAsync(ct);
                }
            }))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line =>
            {
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    _events.Writer.TryWrite(doc.RootElement.Clone());
                }
                catch (JsonException)
                {
                    // Not an event: a remote shell's message (e.g. a login banner); kept with standard error.
                    lock (_stderr) _stderr.AppendLine(line);
                }
            }))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line => { lock (_stderr) _stderr.AppendLine(line); }))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(CancellationToken.None); // never killed from here: its input ending is how a part is stopped
        _ = _process.ContinueWith(_ => _events.Writer.TryComplete(), TaskScheduler.Default);
    }

    public InventoryHost Host { get; }

    /// <summary>The part's last <c>result</c> event, once read.</summary>
    public JsonElement? Result { get; private set; }

    public void Send(string line) => _input.Writer.TryWrite(line);

    public void CloseInput() => _input.Writer.TryComplete();

    /// <summary>The next event, or null once the part's output ended (the process exited or the connection dropped).</summary>
    public async Task<JsonElement?> NextEventAsync(CancellationToken ct)
    {
        while (await _events.Reader.WaitToReadAsync(ct))
            if (_events.Reader.TryRead(out var e))
            {
                if (Event(e) == "result") Result = e;
                return e;
            }
        return null;
    }

    /// <summary>The exit code of ssh (the part's own, or 255 when ssh failed: no connection, or it dropped).</summary>
    public async Task<int> ExitCodeAsync()
    {
        CloseInput();
        return (await _process).ExitCode;
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    public static string? Event(JsonElement e) => e.TryGetProperty("event", out var name) ? name.GetString() : null;
}
