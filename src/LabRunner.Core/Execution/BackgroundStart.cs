namespace LabRunner.Execution;

/// <summary>How to start a background command: when it counts as ready, and the environment it gets besides ours.</summary>
public sealed record BackgroundStart(string ReadyWhenStderrContains)
{
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}
