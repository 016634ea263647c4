using System.Globalization;
using LabRunner.Execution;

namespace LabRunner.Engine;

/// <summary>
/// Test-only fault injection inside an action (docs/RELIABILITY.md): the first command of the armed action whose last
/// word ends with <see cref="FaultInjection.WhileCommand"/> is started through <c>sh</c>, which signals this run, waits
/// <see cref="FaultInjection.Hold"/> and then execs the command as it was. So the signal is sent by the command's own
/// process, which is certain to be running then; after a kill -9 it goes on as an orphan, as a real command would
/// (a CNI plugin in the middle of its ADD). Every other command passes through unchanged.
/// </summary>
internal sealed class FaultInCommandRunner(ICommandRunner inner, FaultInjection fault, Func<bool> armed) : ICommandRunner
{
    private bool _fired;

    public bool IsDryRun => inner.IsDryRun;

    public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default) =>
        inner.RunAsync(Faulted(argv), purpose, ct);

    public Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, string input, CancellationToken ct = default) =>
        inner.RunAsync(Faulted(argv), purpose, input, ct);

    public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
        inner.StartAsync(argv, purpose, start, ct);

    private IReadOnlyList<string> Faulted(IReadOnlyList<string> argv)
    {
        if (_fired || IsDryRun || fault.WhileCommand is not { } word || argv.Count == 0 || !argv[^1].EndsWith(word, StringComparison.Ordinal) || !armed())
            return argv;
        _fired = true;
        var hold = fault.Hold.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var script = $"kill -{fault.Signal} {Environment.ProcessId}; sleep {hold}; exec \"$@\"";
        return [.. argv.Take(argv.Count - 1), "sh", "-c", script, "sh", argv[^1]];
    }
}
