using System.Diagnostics;
using CliWrap;
using CliWrap.Buffered;

namespace LabRunner.Execution;

/// <summary>Runs commands for real through CliWrap, with a time limit so a hung tool cannot hang a lab.</summary>
public sealed class CliWrapCommandRunner(Action<CommandEvent>? onCommand = null, TimeSpan? timeout = null) : ICommandRunner
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(60);
    private readonly Lock _report = new();

    public bool IsDryRun => false;

    public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default) =>
        RunCoreAsync(argv, purpose, null, ct);

    public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, string input, CancellationToken ct = default) =>
        RunCoreAsync(argv, purpose, input, ct);

    private async Task<CommandOutcome> RunCoreAsync(IReadOnlyList<string> argv, CommandPurpose purpose, string? input, CancellationToken ct)
    {
        var outcome = await RunOnceAsync(argv, input, ct);
        // A signal to our process group can still reach a child in the instant between its fork and its setsid: it dies
        // of it, silent (exit 128 + SIGINT/SIGTERM/SIGHUP). Teardown's commands are idempotent, so such a one runs again.
        if (purpose == CommandPurpose.Teardown && outcome.ExitCode is 129 or 130 or 143 && outcome.Output.Length == 0)
            outcome = await RunOnceAsync(argv, input, ct);
        // Expectations observed alongside each other (a step's pings) finish commands at once; observers see one at a time.
        lock (_report) onCommand?.Invoke(new CommandEvent(purpose, [.. argv], outcome) { Input = input });
        return outcome;
    }

    private async Task<CommandOutcome> RunOnceAsync(IReadOnlyList<string> argv, string? input, CancellationToken ct)
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
                .WithStandardInputPipe(input is null ? PipeSource.Null : PipeSource.FromString(input))
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
