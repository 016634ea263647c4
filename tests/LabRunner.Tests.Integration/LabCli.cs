using CliWrap;
using CliWrap.Buffered;

namespace LabRunner.Tests.Integration;

public sealed record LabRun(int ExitCode, string Stdout, string Stderr)
{
    public string Output => Stdout + Stderr;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the real labrunner executable (built next to the tests) as a separate process, as a user would.</summary>
public static class LabCli
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Scenario(string relative) => Path.Combine(RepoRoot, "scenarios", relative);

    private static string Dll => Path.Combine(AppContext.BaseDirectory, "labrunner.dll");

    /// <param name="prefix">argv put in front, e.g. nsenter --net=... to run inside a namespace.</param>
    /// <param name="dll">another copy of labrunner.dll to run (default: the one built next to the tests).</param>
    /// <param name="stdin">text on its standard input (default: none, at its end at once).</param>
    public static async Task<LabRun> RunAsync(string[] args, IReadOnlyDictionary<string, string?>? environment = null, string[]? prefix = null, CancellationToken ct = default,
        string? dll = null, string? stdin = null)
    {
        // A test host started in the background by a non-interactive shell (CI) inherits SIGINT ignored, and so
        // would labrunner: `env --default-signal` gives it the default disposition, as in a terminal.
        string[] argv = [.. prefix ?? [], "env", "--default-signal=INT,TERM", Reliability.LabProcess.NoDiagnostics, Reliability.LabProcess.NoScriptCache, "dotnet", dll ?? Dll, .. args];
        var result = await CliWrap.Cli.Wrap(argv[0])
            .WithArguments(argv.Skip(1))
            .WithEnvironmentVariables(environment ?? new Dictionary<string, string?>())
            .WithStandardInputPipe(stdin is null ? PipeSource.Null : PipeSource.FromString(stdin))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(ct);
        return new LabRun(result.ExitCode, result.StandardOutput, result.StandardError);
    }

    public static async Task<int> ShAsync(string[] argv, CancellationToken ct = default) =>
        (await CliWrap.Cli.Wrap(argv[0]).WithArguments(argv.Skip(1)).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(ct)).ExitCode;

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LabRunner.sln"))) return dir.FullName;
        throw new InvalidOperationException("LabRunner.sln not found above " + AppContext.BaseDirectory);
    }
}
