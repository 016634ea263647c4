namespace LabRunner.Execution;

/// <summary>
/// How to start a background command: when it counts as ready (a line on its stderr; null: as soon as it runs, for a
/// command that says nothing, whose caller checks readiness its own way), and the environment it gets besides ours.
/// </summary>
public sealed record BackgroundStart(string? ReadyWhenStderrContains)
{
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
}
