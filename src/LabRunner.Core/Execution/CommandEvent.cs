using System.Collections.Immutable;

namespace LabRunner.Execution;

public sealed record CommandEvent(CommandPurpose Purpose, ImmutableArray<string> Argv, CommandOutcome Outcome)
{
    /// <summary>What the command got on its standard input (a CNI plugin's config), or null for none.</summary>
    public string? Input { get; init; }

    /// <summary>"netlink" when the netlink driver ran it in-process (no process forked); null for a command run as a process.</summary>
    public string? Driver { get; init; }

    /// <summary>The command as typed in a shell; a standard input shows as bash's here-string, <c>&lt;&lt;&lt; 'TEXT'</c>.</summary>
    public string Display => Input is null ? Argv.Display() : $"{Argv.Display()} <<< {ArgvExtensions.Quote(Input)}";
}
