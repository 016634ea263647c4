using System.Collections.Immutable;
using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;

namespace LabRunner.Execution;

/// <summary>Why a command runs; reporters show action commands and hide checks unless asked.</summary>
public enum CommandPurpose
{
    Setup,
    Action,
    Check,
    Teardown,
    /// <summary>
    /// Run to watch the lab, as a trainer would type it (a capture's tcpdump and its ping): read-only like a
    /// check, but shown like an action.
    /// </summary>
    Observe,
}

public static class CommandPurposes
{
    /// <summary>
    /// What a transcript shows without --verbose: the commands that build the lab and those a trainer would type to
    /// watch it; checks and teardown are detail.
    /// </summary>
    public static bool ShownByDefault(this CommandPurpose purpose) =>
        purpose is CommandPurpose.Action or CommandPurpose.Setup or CommandPurpose.Observe;
}

public sealed record CommandOutcome(int ExitCode, string Stdout, string Stderr, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>What the command said about its failure, on one line.</summary>
    public string Error => (string.IsNullOrWhiteSpace(Stderr) ? Stdout : Stderr).Trim().ReplaceLineEndings(" | ") is { Length: > 0 } said
        ? said
        : $"exit {ExitCode} with no message{(ExitCode > 128 ? $" (killed by signal {ExitCode - 128}?)" : "")}";

    public string Output => Stdout + Stderr;
}

/// <summary>Runs one argv (never through a shell) and reports it to whoever listens.</summary>
public interface ICommandRunner
{
    /// <summary>True when commands are only listed (labrunner plan): outputs are then empty.</summary>
    bool IsDryRun { get; }

    Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default);

    /// <summary>
    /// Starts argv in the background (a packet capture) and returns once a line of its stderr contains
    /// <see cref="BackgroundStart.ReadyWhenStderrContains"/>, or it has ended, or the wait ran out (the handle then
    /// holds the failure). The command is reported once it is ready, or, if it never is, when it is stopped.
    /// </summary>
    Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default);
}

/// <summary>How to start a background command: when it counts as ready, and the environment it gets besides ours.</summary>
public sealed record BackgroundStart(string ReadyWhenStderrContains)
{
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}

/// <summary>A command running in the background; <see cref="StopAsync"/> ends it and tells what it did.</summary>
public interface IBackgroundCommand
{
    /// <summary>False when it ended before it was ready, or never said it was.</summary>
    bool Ready { get; }

    /// <summary>Asks it to finish as Ctrl-C would (SIGINT), kills it if it has not within a few seconds, and returns its outcome.</summary>
    Task<CommandOutcome> StopAsync();
}

public sealed record CommandEvent(CommandPurpose Purpose, ImmutableArray<string> Argv, CommandOutcome Outcome)
{
    public string Display => Argv.Display();
}

public static class ArgvExtensions
{
    /// <summary>The argv as a person would type it in a shell, quoting only where needed.</summary>
    public static string Display(this IEnumerable<string> argv) => string.Join(' ', argv.Select(Quote));

    private static string Quote(string arg) =>
        arg.Length > 0 && arg.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@,+%<>${}".Contains(c))
            ? arg
            : "'" + arg.Replace("'", "'\\''") + "'";
}

/// <summary>
/// Every child LabRunner starts runs in a session (and so a process group) of its own. A terminal sends Ctrl-C to its
/// whole foreground process group: it must reach LabRunner alone, which stops and tears down, and not the commands
/// teardown itself is running (a second Ctrl-C used to kill teardown's `ctr` commands and leave containers behind).
/// util-linux setsid execs in place when its caller is not a process-group leader, and a child of ours never is: the
/// PID, the exit code and a SIGINT sent to that PID (a capture's graceful stop) are the command's own. A command that
/// cannot be found is still exit 127 (setsid: "failed to execute …"). Reports show the argv as given, without setsid.
/// </summary>
public static class Sessions
{
    /// <summary>argv run in a new session; -w: should setsid ever have to fork, it waits and passes the exit code on.</summary>
    public static string[] Detached(IReadOnlyList<string> argv) => ["setsid", "-w", "--", .. argv];
}

/// <summary>Runs commands for real through CliWrap, with a time limit so a hung tool cannot hang a lab.</summary>
public sealed class CliWrapCommandRunner(Action<CommandEvent>? onCommand = null, TimeSpan? timeout = null) : ICommandRunner
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(60);

    public bool IsDryRun => false;

    public async Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
    {
        var outcome = await RunOnceAsync(argv, ct);
        // A signal to our process group can still reach a child in the instant between its fork and its setsid: it dies
        // of it, silent (exit 128 + SIGINT/SIGTERM/SIGHUP). Teardown's commands are idempotent, so such a one runs again.
        if (purpose == CommandPurpose.Teardown && outcome.ExitCode is 129 or 130 or 143 && outcome.Output.Length == 0)
            outcome = await RunOnceAsync(argv, ct);
        onCommand?.Invoke(new CommandEvent(purpose, [.. argv], outcome));
        return outcome;
    }

    private async Task<CommandOutcome> RunOnceAsync(IReadOnlyList<string> argv, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(_timeout);
        var watch = Stopwatch.StartNew();
        CommandOutcome outcome;
        try
        {
            var detached = Sessions.Detached(argv);
            var result = await Cli.Wrap(detached[0])
                .WithArguments(detached.Skip(1))
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(limit.Token);
            outcome = new CommandOutcome(result.ExitCode, result.StandardOutput, result.StandardError, watch.Elapsed);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            outcome = new CommandOutcome(124, "", $"timed out after {_timeout.TotalSeconds:0}s", watch.Elapsed);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            outcome = new CommandOutcome(127, "", $"{argv[0]}: {e.Message}", watch.Elapsed);
        }
        return outcome;
    }

    public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
        CliWrapBackgroundCommand.StartAsync(argv, purpose, start, onCommand, ct);
}

/// <summary>
/// A background command run by CliWrap. Stopping uses CliWrap's graceful cancellation (SIGINT, so tcpdump writes out what
/// it holds), then its forceful one (SIGKILL) if the command is still there after <see cref="GraceTime"/>.
/// </summary>
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
                if (line.Contains(start.ReadyWhenStderrContains, StringComparison.Ordinal)) command._ready.TrySetResult();
            }));
        try
        {
            var detached = Sessions.Detached(argv);
            command._run = Cli.Wrap(detached[0])
                .WithArguments(detached.Skip(1))
                .WithEnvironmentVariables(start.Environment.ToDictionary(e => e.Key, e => (string?)e.Value))
                .WithValidation(CommandResultValidation.None)
                .WithStandardOutputPipe(PipeTarget.ToStringBuilder(command._stdout))
                .WithStandardErrorPipe(stderr)
                .ExecuteAsync(command._forceful.Token, command._graceful.Token)
                .Task;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            command._startFailure = $"{argv[0]}: {e.Message}";
            return command;
        }
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
                _forceful.CancelAfter(GraceTime);
            }
            try
            {
                exitCode = (await _run).ExitCode;
            }
            catch (OperationCanceledException)
            {
                exitCode = _forceful.IsCancellationRequested ? 137 : 0; // stopped by us, as asked
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

/// <summary>Lists commands instead of running them (labrunner plan): every command "succeeds" with no output.</summary>
public sealed class DryRunCommandRunner(Action<CommandEvent>? onCommand = null) : ICommandRunner
{
    public bool IsDryRun => true;

    public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
    {
        var outcome = new CommandOutcome(0, "", "", TimeSpan.Zero);
        onCommand?.Invoke(new CommandEvent(purpose, [.. argv], outcome));
        return Task.FromResult(outcome);
    }

    public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default)
    {
        onCommand?.Invoke(new CommandEvent(purpose, [.. argv], new CommandOutcome(0, "", "", TimeSpan.Zero)));
        return Task.FromResult<IBackgroundCommand>(new Listed());
    }

    private sealed class Listed : IBackgroundCommand
    {
        public bool Ready => true;

        public Task<CommandOutcome> StopAsync() => Task.FromResult(new CommandOutcome(0, "", "", TimeSpan.Zero));
    }
}
