using System.Collections.Concurrent;
using LabRunner.Execution;

namespace LabRunner.Tests.Unit.Infrastructure;

/// <summary>
/// Runs nothing: records every command it is given, with its purpose, and answers each with what
/// <paramref name="answer"/> says (by default: success, no output). Safe to call from several threads at once.
/// </summary>
public sealed class RecordingRunner(Func<IReadOnlyList<string>, CommandOutcome>? answer = null) : ICommandRunner
{
    private readonly ConcurrentQueue<CommandEvent> _commands = new();

    public static CommandOutcome Ok(string stdout = "") => new(0, stdout, "", TimeSpan.Zero);

    public static CommandOutcome Failed(int exitCode, string stderr) => new(exitCode, "", stderr, TimeSpan.Zero);

    /// <summary>Every command, in the order they were given.</summary>
    public IReadOnlyList<CommandEvent> Commands => [.. _commands];

    /// <summary>Every command as typed in a shell.</summary>
    public IReadOnlyList<string> Displays => [.. _commands.Select(c => c.Display)];

    public bool IsDryRun => false;

    public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
    {
        var outcome = answer?.Invoke(argv) ?? Ok();
        _commands.Enqueue(new CommandEvent(purpose, [.. argv], outcome));
        return Task.FromResult(outcome);
    }

    /// <summary>Answers a command with a standard input as any other (<paramref name="answer"/> sees the argv); the event keeps the input.</summary>
    public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, string input, CancellationToken ct = default)
    {
        var outcome = answer?.Invoke(argv) ?? Ok();
        _commands.Enqueue(new CommandEvent(purpose, [.. argv], outcome) { Input = input });
        return Task.FromResult(outcome);
    }

    public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
        throw new NotSupportedException($"a recording runner starts nothing in the background ({argv.Display()})");
}
