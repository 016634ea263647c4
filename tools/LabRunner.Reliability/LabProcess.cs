using System.Text.RegularExpressions;
using CliWrap;
using CliWrap.Buffered;

namespace LabRunner.Reliability;

public sealed partial record LabRun(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    /// <summary>The lab id the run printed first ("Lab article (id 1a2b3c, ..."), or null if it never got that far.</summary>
    public string? LabId => IdLine().Match(Stdout) is { Success: true } m ? m.Groups[1].Value : null;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";

    [GeneratedRegex(@"\(id ([0-9a-f]{6}),")]
    private static partial Regex IdLine();
}

/// <summary>Runs the real labrunner executable as a separate process, as a user (or CI) would.</summary>
public static class LabProcess
{
    /// <summary>labrunner.dll, built next to this assembly; LABRUNNER_DLL runs another build (e.g. main's, to see a spec fail there).</summary>
    public static string Dll { get; } = Environment.GetEnvironmentVariable("LABRUNNER_DLL") is { Length: > 0 } other ? other : Path.Combine(AppContext.BaseDirectory, "labrunner.dll");

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// For `env`: no .NET diagnostics IPC in the labrunner under test. Each .NET process makes a debugger pipe pair and a
    /// diagnostics socket in /tmp and removes them at exit; the runs these drivers SIGKILL would leave them behind.
    /// </summary>
    public const string NoDiagnostics = "DOTNET_EnableDiagnostics=0";

    /// <summary>For `env`: the labrunner under test compiles a .csx every time, leaving nothing in the user's ~/.cache.</summary>
    public const string NoScriptCache = "LABRUNNER_SCRIPT_CACHE=off";

    public static string Scenario(string relative) => Path.Combine(RepoRoot, "scenarios", relative);

    public static async Task<LabRun> RunAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? environment = null,
        IReadOnlyList<string>? prefix = null, CancellationToken ct = default)
    {
        // `env --default-signal`: a process started in the background by a non-interactive shell inherits SIGINT
        // ignored (POSIX), and .NET then keeps ignoring it; the labs here must see SIGINT as a user's Ctrl-C.
        string[] argv = [.. prefix ?? [], "env", "--default-signal=INT,TERM", NoDiagnostics, NoScriptCache, "dotnet", Dll, .. args];
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = await CliWrap.Cli.Wrap(argv[0])
            .WithArguments(argv.Skip(1))
            .WithEnvironmentVariables(environment ?? new Dictionary<string, string?>())
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(ct);
        return new LabRun(result.ExitCode, result.StandardOutput, result.StandardError, watch.Elapsed);
    }

    /// <summary>Runs a plain command (mount, umount) and returns its exit code.</summary>
    public static async Task<int> ShAsync(IReadOnlyList<string> argv, CancellationToken ct = default) =>
        (await CliWrap.Cli.Wrap(argv[0]).WithArguments(argv.Skip(1)).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(ct)).ExitCode;

    /// <summary>Starts a run and sends it SIGKILL after <paramref name="delay"/> (or lets it finish if it is quicker).</summary>
    public static async Task<LabRun> RunAndKillAsync(IReadOnlyList<string> args, TimeSpan delay, CancellationToken ct = default)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // env execs dotnet: the PID CliWrap reports is labrunner's own.
        var task = CliWrap.Cli.Wrap("env")
            .WithArguments(["--default-signal=INT,TERM", NoDiagnostics, NoScriptCache, "dotnet", Dll, .. args])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(ct);
        var finished = await Task.WhenAny(task.Task, Task.Delay(delay, ct));
        if (finished != task.Task) Platform.Processes.Signal(task.ProcessId, Platform.Processes.SIGKILL);
        var result = await task;
        return new LabRun(result.ExitCode, result.StandardOutput, result.StandardError, watch.Elapsed);
    }

    /// <summary>Removes a private state directory once no journal is left in it (each run's --state-dir is a temp dir).</summary>
    public static void DeleteIfEmpty(string directory)
    {
        try
        {
            if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any()) Directory.Delete(directory);
        }
        catch (IOException)
        {
            // someone wrote into it meanwhile: leave it
        }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LabRunner.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
