namespace LabRunner.Engine;

/// <summary>
/// The machine cannot run labs as it is (exit 3); <see cref="Fix"/> says what to do. Thrown wherever that is found: the
/// engine (sandbox, --host uplink, tcpdump), a runtime (its daemon, its image), the journal (a record that cannot be written).
/// </summary>
public sealed class EnvironmentProblemException(string message, string fix) : Exception(message)
{
    public string Fix { get; } = fix;
}
