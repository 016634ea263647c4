using System.Diagnostics;
using CliWrap;

namespace LabRunner.Execution;

/// <summary>
/// A background command run by CliWrap. Stopping uses CliWrap's graceful cancellation (SIGINT, so tcpdump writes out what
/// it holds), then its forceful one (SIGKILL) if the command is still there after <see cref="GraceTime"/>.
/// </summary>
/// <remarks>
/// "Still there" is asked of the process itself (/proc), not of the task that reports its end: on a busy machine that
/// report can come seconds after the process has gone (the thread pool runs it), and a command that ended on its
/// SIGINT would then be called killed (exit 137), as one suite run under load saw.
/// </remarks>
internal sealed class CliWrapBackgroundCommand : IBackgroundCommand
{
    private static readonly TimeSpan GraceTime = TimeSpan.FromSeconds(5);
    private readonly IReadOnlyList<string> _argv;
    private readonly CommandPurpose _purpose;
    private readonly Action<CommandEvent>? _onCommand;
    private readonly System.Text.StringBuilder _stdout = new();
    private readonly System.Text.StringBuilder _stderr = new();
    private readonly CancellationTokenSource _graceful = new();
    private readonly CancellationTokenSource _forceful = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private Task<CommandResult>? _run;
    private int _pid;
    private long? _pidStartTime;
    private bool _killed;
    private string? _startFailure;

    private CliWrapBackgroundCommand(IReadOnlyList<string> argv, CommandPurpose purpose, Action<CommandEvent>? onCommand)
    {
        _argv = argv;
        _purpose = purpose;
        _onCommand = onCommand;
    }

    public bool Ready { get; private set; }

    private void Report(CommandOutcome outcome) => _onCommand?.Invoke(new CommandEvent(_purpose, [.. _argv], outcome));

    public static async Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start,
        Action<CommandEvent>? onCommand, CancellationToken ct)
    {
        var command = new CliWrapBackgroundCommand(argv, purpose, onCommand);
        var stderr = PipeTarget.Merge(
            PipeTarget.ToStringBuilder(command._stderr),
            PipeTarget.ToDelegate(line =>
            {
                if (start.ReadyWhenStderrContains is { } ready && line.Contains(ready, StringComparison.Ordinal)) command._ready.TrySetResult();
            }));
        try
        {
            var detached = Sessions.DetachedWithDefaultSignals(argv);
            var task = Cli.Wrap(detached[0])
                .WithArguments(detached.Skip(1))
                .WithEnvironmentVariables(start.Environment.ToDictionary(e => e.Key, e => (string?)e.Value))
                .WithValidation(CommandResultValidation.None)
                .WithStandardOutputPipe(PipeTarget.ToStringBuilder(command._stdout))
                .WithStandardErrorPipe(stderr)
                .ExecuteAsync(command._forceful.Token, command._graceful.Token);
            command._run = task.Task;
            command._pid = task.ProcessId;
            command._pidStartTime = Platform.Processes.StartTime(task.ProcessId); // so a reused PID is not taken for it
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            command._startFailure = $"{argv[0]}: {e.Message}";
            return command;
        }
        if (start.ReadyWhenStderrContains is null) command._ready.TrySetResult(); // nothing to wait for: it runs
        var first = await Task.WhenAny(command._ready.Task, command._run, Task.Delay(start.ReadyTimeout, ct));
        command.Ready = first == command._ready.Task;
        if (!command.Ready && first != command._run)
            command._startFailure = ct.IsCancellationRequested ? "cancelled" : $"not ready after {start.ReadyTimeout.TotalSeconds:0}s";
        // Reported once it runs, so a transcript shows it before the traffic it watches; one that never got ready
        // is reported when stopped, with its error.
        if (command.Ready) command.Report(new CommandOutcome(0, "", "", command._watch.Elapsed));
        return command;
    }

    public async Task<CommandOutcome> StopAsync()
    {
        var exitCode = 0;
        if (_run is not null)
        {
            if (!_run.IsCompleted)
            {
                _graceful.Cancel();
                if (await Task.WhenAny(_run, Task.Delay(GraceTime)) != _run && Platform.Processes.IsRunning(_pid, _pidStartTime))
                {
                    _killed = true;
                    _forceful.Cancel();
                }
            }
            try
            {
                exitCode = (await _run).ExitCode;
            }
            catch (OperationCanceledException)
            {
                exitCode = _killed ? 137 : 0; // stopped by us, as asked: by its SIGINT, or killed after the grace
            }
        }
        else exitCode = 127;
        var error = _startFailure is null ? _stderr.ToString() : (_stderr + _startFailure).Trim();
        if (_startFailure is not null && exitCode == 0) exitCode = 1;
        var outcome = new CommandOutcome(exitCode, _stdout.ToString(), error, _watch.Elapsed);
        if (!Ready) Report(outcome);
        _graceful.Dispose();
        _forceful.Dispose();
        return outcome;
    }
}
