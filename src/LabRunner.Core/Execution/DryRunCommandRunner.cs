namespace LabRunner.Execution;

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

    public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, string input, CancellationToken ct = default)
    {
        var outcome = new CommandOutcome(0, "", "", TimeSpan.Zero);
        onCommand?.Invoke(new CommandEvent(purpose, [.. argv], outcome) { Input = input });
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
