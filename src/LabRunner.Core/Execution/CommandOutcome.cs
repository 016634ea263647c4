namespace LabRunner.Execution;

public sealed record CommandOutcome(int ExitCode, string Stdout, string Stderr, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>What the command said about its failure, on one line.</summary>
    public string Error => (string.IsNullOrWhiteSpace(Stderr) ? Stdout : Stderr).Trim().ReplaceLineEndings(" | ") is { Length: > 0 } said
        ? said
        : $"exit {ExitCode} with no message{(ExitCode > 128 ? $" (killed by signal {ExitCode - 128}?)" : "")}";

    public string Output => Stdout + Stderr;
}
