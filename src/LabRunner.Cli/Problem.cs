using LabRunner.Engine;
using LabRunner.Loading;

namespace LabRunner.Cli;

/// <summary>
/// Why a command could not do its work, as the user is told it: <see cref="Message"/> (what is wrong, one line or more),
/// <see cref="Fix"/> (what to do, when there is something), and the exit code. <see cref="Of"/> is the one map from
/// exceptions to problems; <see cref="Tell"/> is the one place that prints them, on standard error (standard output is
/// the lab's own report).
/// </summary>
internal sealed record Problem(string Message, string? Fix, int ExitCode)
{
    /// <summary>An invalid scenario, option or file (exit 2): nothing was touched.</summary>
    public static Problem Usage(string message, string? fix = null) => new($"error: {message}", fix, ExitCodes.InvalidInput);

    /// <summary>The machine cannot do it as it is (exit 3).</summary>
    public static Problem Environment(string message, string? fix = null) =>
        new($"environment: {message}", fix is null ? null : $"fix: {fix}", ExitCodes.Environment);

    /// <summary>What an exception means to the user, or null for one that is a bug (System.CommandLine shows those, exit 1).</summary>
    public static Problem? Of(Exception e) => e switch
    {
        ScenarioInvalidException invalid => new(string.Join(System.Environment.NewLine, invalid.Errors),
            $"{invalid.Errors.Length} error(s); nothing was run.", ExitCodes.InvalidInput) { Errors = invalid.Errors },
        UsageException usage => Usage(usage.Message, usage.Fix),
        HostConflictException clash => Usage(clash.Message, "nothing was touched; remove them, or run in a sandbox (without --host)"),
        EnvironmentProblemException environment => Environment(environment.Message, environment.Fix),
        // Most likely standard output on a full device or a closed terminal, outside a lab (a lab's own output failing
        // stops and tears it down, and is an EnvironmentProblemException); possibly a full /tmp.
        IOException io => Environment($"a read or write failed: {io.Message}",
            "check where the output goes and that there is room there and in /tmp (a full disk? a closed terminal?)"),
        _ => null,
    };

    /// <summary>A lab file's errors, each with its position (an invalid scenario), for the event stream.</summary>
    public System.Collections.Immutable.ImmutableArray<ScenarioError> Errors { get; init; } = [];

    /// <summary>
    /// Prints the problem on standard error and returns its exit code; with <c>--format json</c> the stream's last event
    /// (<paramref name="events"/>) says it too.
    /// </summary>
    public int Tell(Reporting.JsonEventStream? events = null)
    {
        events?.Fail(Message, Fix, Errors);
        try
        {
            Console.Error.WriteLine(Message);
            if (Fix is not null) Console.Error.WriteLine(Fix);
        }
        catch (IOException)
        {
            // Standard error is gone too: the exit code still says it.
        }
        return ExitCode;
    }
}
