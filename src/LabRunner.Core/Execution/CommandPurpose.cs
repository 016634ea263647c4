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
