using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using CliWrap;

namespace LabRunner.Reliability;

/// <summary>How a <see cref="WatchedRun"/> is started.</summary>
public sealed record WatchOptions
{
    /// <summary>
    /// Run in a process group (and session) of its own, started with `setsid`, so a test can signal the whole group as
    /// a terminal's Ctrl-C does (kill -INT -PGID) without signalling itself.
    /// </summary>
    public bool OwnGroup { get; init; }

    /// <summary>
    /// Run on a pseudo-terminal of its own (its controlling terminal; stdin, stdout and stderr), as in a terminal window:
    /// <see cref="WatchedRun.HangUp"/> then closes the terminal, and the kernel sends SIGHUP as when a window is closed.
    /// </summary>
    public bool Terminal { get; init; }

    /// <summary>argv put in front (e.g. flock FILE), run before setsid/env.</summary>
    public IReadOnlyList<string> Prefix { get; init; } = [];

    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();
}

/// <summary>
/// A labrunner run watched while it runs: its output as it comes, its PID, its stdin (a pipe only the test writes to,
/// never closed before the run ends), and signals to it or to its process group.
/// </summary>
public sealed partial class WatchedRun : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Channel<string> _stdin = Channel.CreateUnbounded<string>();
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly Pty? _pty;
    private CommandTask<CommandResult>? _task;
    private TimeSpan? _exitedAt;
    private Task? _exited;

    private WatchedRun(Pty? pty) => _pty = pty;

    public int Pid => _task!.ProcessId;

    public string Stdout
    {
        get { lock (_gate) return _stdout.ToString(); }
    }

    /// <summary>The lab id the run printed ("(id 1a2b3c, ..."), or null before that.</summary>
    public string? LabId => IdLine().Match(Stdout) is { Success: true } m ? m.Groups[1].Value : null;

    public static WatchedRun Start(IReadOnlyList<string> args, WatchOptions? options = null)
    {
        options ??= new WatchOptions();
        var run = new WatchedRun(options.Terminal ? Pty.Open() : null);
        // `env --default-signal`: a background process of a non-interactive shell inherits SIGINT ignored (see LabProcess).
        string[] labrunner = ["env", "--default-signal=INT,TERM,HUP", LabProcess.NoDiagnostics, LabProcess.NoScriptCache, "dotnet", LabProcess.Dll, .. args];
        // Not a group leader (a child of ours), util-linux setsid execs in place: the PID stays labrunner's, and is the
        // group's id. With -c the terminal on stdin becomes its controlling terminal.
        string[] argv = run._pty is { } pty
            ? [.. options.Prefix, "sh", "-c", "exec setsid -c \"$@\" <\"$0\" >\"$0\" 2>&1", pty.SlavePath, .. labrunner]
            : options.OwnGroup ? [.. options.Prefix, "setsid", .. labrunner] : [.. options.Prefix, .. labrunner];
        run._task = CliWrap.Cli.Wrap(argv[0])
            .WithArguments(argv.Skip(1))
            .WithEnvironmentVariables(options.Environment)
            .WithValidation(CommandResultValidation.None)
            .WithStandardInputPipe(PipeSource.Create(run.PipeStdinAsync))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(run.AppendStdout))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(line => { lock (run._gate) run._stderr.AppendLine(line); }))
            .ExecuteAsync();
        run._exited = run._task.Task.ContinueWith(_ => run._exitedAt = run._watch.Elapsed, TaskScheduler.Default);
        run._pty?.StartReading(run.AppendStdout);
        return run;
    }

    private void AppendStdout(string text)
    {
        lock (_gate) _stdout.AppendLine(text);
    }

    private async Task PipeStdinAsync(Stream destination, CancellationToken ct)
    {
        // Held open until the run ends: a prompt waits on it as on a terminal nobody types into.
        await foreach (var text in _stdin.Reader.ReadAllAsync(ct))
        {
            await destination.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
            await destination.FlushAsync(ct);
        }
    }

    /// <summary>Types text on its stdin (e.g. "\n" at a --pause prompt).</summary>
    public void Type(string text) => _stdin.Writer.TryWrite(text);

    /// <summary>Closes its stdin once what was typed is written: the end of input, as when a `labrunner part`'s controller dies.</summary>
    public void EndInput() => _stdin.Writer.TryComplete();

    /// <summary>Waits until its output satisfies <paramref name="seen"/>; throws (with the output) if it ends or the time runs out first.</summary>
    public async Task WaitForAsync(Func<string, bool> seen, string what, TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = _watch.Elapsed + timeout;
        while (!seen(Stdout))
        {
            if (_task!.Task.IsCompleted) throw new TimeoutException($"the run ended before {what}:\n{this}");
            if (_watch.Elapsed > deadline) throw new TimeoutException($"no {what} within {timeout.TotalSeconds:0}s:\n{this}");
            await Task.Delay(10, ct);
        }
    }

    public Task WaitForAsync(string text, TimeSpan timeout, CancellationToken ct = default) =>
        WaitForAsync(o => o.Contains(text, StringComparison.Ordinal), $"'{text}'", timeout, ct);

    /// <summary>Sends a signal to labrunner's process group, as a terminal's Ctrl-C does (needs <see cref="WatchOptions.OwnGroup"/>).</summary>
    public bool SignalGroup(int signal) => Platform.Processes.Signal(-Pid, signal);

    public bool Signal(int signal) => Platform.Processes.Signal(Pid, signal);

    /// <summary>Closes its terminal, as closing a terminal window does: the kernel sends SIGHUP, and writes to it fail (EIO).</summary>
    public void HangUp() => (_pty ?? throw new InvalidOperationException("not started on a terminal")).Close();

    /// <summary>When it ended, on the same clock as <see cref="Now"/>.</summary>
    public TimeSpan? ExitedAt => _exitedAt;

    public TimeSpan Now => _watch.Elapsed;

    /// <summary>Waits for its end; kills it (SIGKILL) if it is not over within <paramref name="timeout"/>.</summary>
    public async Task<LabRun> ExitAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        if (await Task.WhenAny(_task!.Task, Task.Delay(timeout, ct)) != _task.Task) Signal(Platform.Processes.SIGKILL);
        var result = await _task;
        await _exited!;
        _stdin.Writer.TryComplete();
        _pty?.Close();
        lock (_gate) return new LabRun(result.ExitCode, _stdout.ToString(), _stderr.ToString(), _watch.Elapsed);
    }

    public override string ToString()
    {
        lock (_gate) return $"--- stdout\n{_stdout}\n--- stderr\n{_stderr}";
    }

    public async ValueTask DisposeAsync()
    {
        if (_task is { Task.IsCompleted: false }) await ExitAsync(TimeSpan.Zero);
        _pty?.Close();
    }

    [GeneratedRegex(@"\(id ([0-9a-f]{6}),")]
    private static partial Regex IdLine();
}

/// <summary>The master side of a pseudo-terminal, read without blocking so that closing it really closes it.</summary>
internal sealed class Pty
{
    private const int O_RDWR = 2, O_NOCTTY = 0x100, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    private int _fd;
    private CancellationTokenSource? _stop;
    private Task? _reader;

    private Pty(int fd, string slavePath)
    {
        _fd = fd;
        SlavePath = slavePath;
    }

    public string SlavePath { get; }

    public static Pty Open()
    {
        // O_CLOEXEC: no other child of ours may hold the master, or closing ours would not hang the terminal up.
        var fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0) throw new IOException($"cannot open a pseudo-terminal: errno {Marshal.GetLastPInvokeError()}");
        var name = new byte[128];
        if (ptsname_r(fd, name, name.Length) != 0) throw new IOException("ptsname_r failed");
        return new Pty(fd, Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0)));
    }

    public void StartReading(Action<string> onText)
    {
        _stop = new CancellationTokenSource();
        var stop = _stop.Token;
        _reader = Task.Run(async () =>
        {
            var buffer = new byte[8192];
            var pending = "";
            while (!stop.IsCancellationRequested)
            {
                var n = (int)read(_fd, buffer, buffer.Length);
                if (n <= 0)
                {
                    await Task.Delay(10, CancellationToken.None); // EAGAIN (nothing yet) or EIO (no slave open yet / any more)
                    continue;
                }
                pending += Encoding.UTF8.GetString(buffer, 0, n).Replace("\r", "", StringComparison.Ordinal);
                var lines = pending.Split('\n');
                foreach (var line in lines[..^1]) onText(line);
                pending = lines[^1];
            }
            if (pending.Length > 0) onText(pending);
        }, CancellationToken.None);
    }

    /// <summary>Stops reading, then closes the master: the terminal hangs up.</summary>
    public void Close()
    {
        if (_fd < 0) return;
        _stop?.Cancel();
        _reader?.Wait();
        close(_fd);
        _fd = -1;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int posix_openpt(int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int grantpt(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int unlockpt(int fd);

    [DllImport("libc")]
    private static extern int ptsname_r(int fd, [Out] byte[] buffer, nint length);

    [DllImport("libc", SetLastError = true)]
    private static extern nint read(int fd, [Out] byte[] buffer, nint count);

    [DllImport("libc")]
    private static extern int close(int fd);
}
