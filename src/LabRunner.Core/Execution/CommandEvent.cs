using System.Collections.Immutable;

namespace LabRunner.Execution;

public sealed record CommandEvent(CommandPurpose Purpose, ImmutableArray<string> Argv, CommandOutcome Outcome)
{
    public string Display => Argv.Display();
}
