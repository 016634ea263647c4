namespace LabRunner.Engine;

/// <summary>
/// What the command line named does not exist or cannot be meant (a step, a run, a place): exit 2, nothing touched.
/// <see cref="Fix"/> lists what can be named instead.
/// </summary>
public sealed class UsageException(string message, string? fix = null) : Exception(message)
{
    public string? Fix { get; } = fix;
}
