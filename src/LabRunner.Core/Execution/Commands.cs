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
}

public sealed record CommandOutcome(int ExitCode, string Stdout, string Stderr, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>What the command said about its failure, on one line.</summary>
    public string Error => (string.IsNullOrWhiteSpace(Stderr) ? Stdout : Stderr).Trim().ReplaceLineEndings(" | ");

    public string Output => Stdout + Stderr;
}

/// <summary>Runs one argv (never through a shell) and reports it to whoever listens.</summary>
public interface ICommandRunner
{
    /// <summary>True when commands are only listed (labrunner plan): outputs are then empty.</summary>
    bool IsDryRun { get; }

    Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default);
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

/// <summary>Runs commands for real through CliWrap, with a time limit so a hung tool cannot hang a lab.</summary>
public sealed class CliWrapCommandRunner(Action<CommandEvent>? onCommand = null, TimeSpan? timeout = null) : ICommandRunner
{
    private readonly TimeSpan _timeout = timeout ?? TimeSpan.FromSeconds(60);

    public bool IsDryRun => false;

    public async Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(_timeout);
        var watch = Stopwatch.StartNew();
        CommandOutcome outcome;
        try
        {
            var result = await Cli.Wrap(argv[0])
                .WithArguments(argv.Skip(1))
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
        onCommand?.Invoke(new CommandEvent(purpose, [.. argv], outcome));
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
}
