namespace LabRunner.Engine;

/// <summary>What the CLI does on a signal (README "Signals", docs/RELIABILITY.md).</summary>
public enum InterruptAction
{
    /// <summary>The first: stop after the current command, tear down, exit 128 + the signal.</summary>
    StopAndTearDown,
    /// <summary>The second SIGINT/SIGTERM: say that teardown is running and that one more abandons it.</summary>
    Warn,
    /// <summary>The third: exit 130 at once, journal kept for `labrunner clean`.</summary>
    Abandon,
    /// <summary>Nothing more to do (a repeated SIGHUP: nobody is there to read or type).</summary>
    Ignore,
}

/// <summary>
/// Counts the signals of a run. Teardown is what keeps the machine clean, so one impatient Ctrl-C must not cut it
/// short; but a user who presses Ctrl-C three times means it, and gets the prompt back (the journal stays for clean).
/// A SIGHUP counts as a first signal only: after it no one can press anything.
/// </summary>
public sealed class Interrupts
{
    private readonly Lock _gate = new();
    private int _count;

    /// <summary>The exit code of an interrupted run: 128 + the first signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP).</summary>
    public int ExitCode { get; private set; } = ExitCodes.Interrupted;

    public InterruptAction On(int signal)
    {
        lock (_gate)
        {
            if (_count == 0) ExitCode = 128 + signal;
            else if (signal == Platform.Processes.SIGHUP) return InterruptAction.Ignore;
            return ++_count switch
            {
                1 => InterruptAction.StopAndTearDown,
                2 => InterruptAction.Warn,
                _ => InterruptAction.Abandon,
            };
        }
    }
}
