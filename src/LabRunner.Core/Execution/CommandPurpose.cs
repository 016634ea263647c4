namespace LabRunner.Execution;

/// <summary>Why a command runs; reporters show action commands and hide checks unless asked.</summary>
public enum CommandPurpose
{
    Setup,
    Action,
    Check,
    Teardown,
    /// <summary>
    /// Run to watch the lab, as a trainer would type it (a capture's tcpdump and its ping): read-only like a
    /// check, but shown like an action.
    /// </summary>
    Observe,
    /// <summary>
    /// After teardown, a look at whether something is gone (`ip link show dev veth-1`): it is meant to fail, so a
    /// failure is good news, never a warning.
    /// </summary>
    Verify,
}

public static class CommandPurposes
{
    /// <summary>
    /// What a transcript shows without --verbose: the commands that build the lab and those a trainer would type to
    /// watch it; checks and teardown are detail.
    /// </summary>
    public static bool ShownByDefault(this CommandPurpose purpose) =>
        purpose is CommandPurpose.Action or CommandPurpose.Setup or CommandPurpose.Observe;
}
