namespace LabRunner.Execution;

/// <summary>
/// Every child LabRunner starts runs in a session (and so a process group) of its own. A terminal sends Ctrl-C to its
/// whole foreground process group: it must reach LabRunner alone, which stops and tears down, and not the commands
/// teardown itself is running (a second Ctrl-C used to kill teardown's `ctr` commands and leave containers behind).
/// util-linux setsid execs in place when its caller is not a process-group leader, and a child of ours never is: the
/// PID, the exit code and a SIGINT sent to that PID (a capture's graceful stop) are the command's own. A command that
/// cannot be found is still exit 127 (setsid: "failed to execute …"). Reports show the argv as given, without setsid.
/// </summary>
public static class Sessions
{
    /// <summary>argv run in a new session; -w: should setsid ever have to fork, it waits and passes the exit code on.</summary>
    public static string[] Detached(IReadOnlyList<string> argv) => ["setsid", "-w", "--", .. argv];

    /// <summary>
    /// A background command (a capture), which is stopped with SIGINT: as <see cref="Detached"/>, with SIGINT, SIGTERM
    /// and SIGHUP back to their default disposition (coreutils env execs in place: still the command's own PID). A
    /// labrunner started in the background by a non-interactive shell (`labrunner run … &amp;` in a CI script, `nohup`)
    /// has SIGINT ignored, and its children inherit that: a shell does not even let a script trap a signal ignored on
    /// entry, so the graceful stop did nothing and the command was killed after the grace (exit 137).
    /// </summary>
    public static string[] DetachedWithDefaultSignals(IReadOnlyList<string> argv) =>
        Detached(["env", "--default-signal=INT,TERM,HUP", .. argv]);
}
