namespace LabRunner.Engine;

/// <summary>--host mode: names the lab would create already exist on this host (exit 2, nothing touched).</summary>
public sealed class HostConflictException(IReadOnlyList<string> clashes)
    : Exception($"--host: these already exist on this host and the lab would create them: {string.Join("; ", clashes)}");
