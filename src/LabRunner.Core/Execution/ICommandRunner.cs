namespace LabRunner.Execution;

/// <summary>Runs one argv (never through a shell) and reports it to whoever listens.</summary>
public interface ICommandRunner
{
    /// <summary>True when commands are only listed (labrunner plan): outputs are then empty.</summary>
    bool IsDryRun { get; }

    Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default);

    /// <summary>
    /// As <see cref="RunAsync(IReadOnlyList{string}, CommandPurpose, CancellationToken)"/>, with <paramref name="input"/>
    /// as the command's standard input (a CNI plugin's config); the event carries it, so plans and reports show it.
    /// </summary>
    Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, string input, CancellationToken ct = default) =>
        throw new NotSupportedException($"{GetType().Name} gives no command a standard input ({argv.Display()})");

    /// <summary>
    /// Starts argv in the background (a packet capture) and returns once a line of its stderr contains
    /// <see cref="BackgroundStart.ReadyWhenStderrContains"/>, or it has ended, or the wait ran out (the handle then
    /// holds the failure). The command is reported once it is ready, or, if it never is, when it is stopped.
    /// </summary>
    Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default);
}
