namespace LabRunner.Engine;

public enum LabOutcome
{
    /// <summary>Every action and expectation held.</summary>
    Passed,
    /// <summary>An expectation failed, or an action failed (or did not fail when it had to).</summary>
    Failed,
    /// <summary>Stopped by SIGINT/SIGTERM/SIGHUP; teardown was still done.</summary>
    Interrupted,
}

public sealed record LabResult(
    string LabId,
    LabOutcome Outcome,
    string? FailedStep,
    IReadOnlyList<string> Failures,
    TeardownReport Teardown,
    TimeSpan Elapsed)
{
    /// <summary>
    /// Why a run that failed nothing ended before the lab's last step (<c>--until</c>, q at a pause), e.g. "ended after
    /// step 3.4 (--until)"; null when it ran to the end, failed or was interrupted. Such a run passed if every step it ran
    /// did: the steps after are reported as not run, not as failed.
    /// </summary>
    public string? StoppedEarly { get; init; }

    /// <summary>The exit-code contract: 0 passed, 1 failed, 4 teardown left something (it wins: the machine matters most).</summary>
    public int ExitCode(int interruptedCode = 130) =>
        !Teardown.Clean ? ExitCodes.LeftBehind
        : Outcome switch
        {
            LabOutcome.Passed => ExitCodes.Passed,
            LabOutcome.Failed => ExitCodes.ExpectationFailed,
            _ => interruptedCode,
        };
}

/// <summary>The exit codes other tools rely on.</summary>
public static class ExitCodes
{
    public const int Passed = 0;
    public const int ExpectationFailed = 1;
    public const int InvalidInput = 2;
    public const int Environment = 3;
    public const int LeftBehind = 4;
    /// <summary>SIGHUP: the terminal went away (window closed, SSH dropped); teardown was still done.</summary>
    public const int HungUp = 129;
    public const int Interrupted = 130;
    public const int Terminated = 143;
}
