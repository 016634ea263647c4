namespace LabRunner.Execution;

/// <summary>A command running in the background; <see cref="StopAsync"/> ends it and tells what it did.</summary>
public interface IBackgroundCommand
{
    /// <summary>False when it ended before it was ready, or never said it was.</summary>
    bool Ready { get; }

    /// <summary>Asks it to finish as Ctrl-C would (SIGINT), kills it if it has not within a few seconds, and returns its outcome.</summary>
    Task<CommandOutcome> StopAsync();
}
