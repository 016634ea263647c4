using System.Diagnostics;
using LabRunner.Execution;
using LabRunner.Kinds;
using LabRunner.Model;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

public sealed record ExpectationResult(bool Held, string Expected, string Observed, int Attempts, TimeSpan Elapsed)
{
    /// <summary>
    /// For a failed expectation that can be explained (a ping that got no answer), or an expected failure whose
    /// <c>why</c> was asked: what was found, one finding a line.
    /// </summary>
    public IReadOnlyList<string> Diagnosis { get; init; } = [];

    /// <summary>The ids of the diagnosis classes found (<see cref="Diagnosis"/>'s lines belong to them), in the order found.</summary>
    public IReadOnlyList<string> DiagnosisClasses { get; init; } = [];

    /// <summary>
    /// A capture's packets, one entry per capture point, of the attempt that decided it: only when the run keeps them
    /// (<see cref="LabOptions.KeepCaptures"/>, for a bug bundle); empty otherwise and for every other kind.
    /// </summary>
    public IReadOnlyList<CapturedPackets> Captures { get; init; } = [];
}

/// <summary>
/// Checks expectations against the live host, each by its own <see cref="Expectation.ObserveAsync"/>. Each is observed
/// again and again until it holds or its deadline passes: no fixed sleeps, so ARP resolution or carrier coming up late
/// never makes a lab flaky. One that still fails is asked why (<see cref="Expectation.DiagnoseAsync"/>).
/// </summary>
/// <param name="labPlaces">The lab's places (host, its namespaces, its containers), where a diagnosis may look.</param>
public sealed class ExpectationEvaluator(LabSession session, ICommandRunner runner, IContainerRuntime runtime, Journal.LabJournal journal,
    Func<IReadOnlyList<Place>> labPlaces)
{
    private readonly ObserveContext _context = Context(session, runner, runtime, journal, labPlaces);

    private static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(100);

    private static ObserveContext Context(LabSession session, ICommandRunner runner, IContainerRuntime runtime, Journal.LabJournal journal,
        Func<IReadOnlyList<Place>> labPlaces)
    {
        var places = new PlaceCommands(session, runner, runtime);
        return new ObserveContext(session, runner, places, new PacketCapture(session, runner, places, journal), new Diagnosis.DiagnosisWalk(session, runner, labPlaces))
            { StateDirectory = journal.Directory };
    }

    /// <summary>Keep each capture's pcap for a bug bundle (<see cref="LabOptions.KeepCaptures"/>).</summary>
    public bool KeepCaptures
    {
        get => _context.Capture.Keep;
        set => _context.Capture.Keep = value;
    }

    /// <summary>A step begins: each of its expectations reads what it compares with afterwards (<see cref="Expectation.BeginStepAsync"/>).</summary>
    public async Task BeginStepAsync(IEnumerable<Expectation> expectations, CancellationToken ct)
    {
        _context.StepStart.Clear();
        foreach (var expectation in expectations) await expectation.BeginStepAsync(_context, ct);
    }

    public async Task<ExpectationResult> EvaluateAsync(Expectation expectation, CancellationToken ct)
    {
        _context.Capture.TakeKept(); // nothing of an earlier expectation (one cut short) is this one's
        var result = await ObserveUntilDecidedAsync(expectation, ct);
        return await ExplainAsync(expectation, result with { Captures = _context.Capture.TakeKept() }, ct); // the last attempt's: the one that decided
    }

    /// <summary>
    /// Observes adjacent expectations that allow it (<see cref="Expectation.ObservedAlongside"/>: pings of a step) at the
    /// same time, at most <see cref="Alongside"/> at once, then explains those that need it one after the other (a
    /// diagnosis reads counters and sends again: two at once would see each other's packets). Results in their order.
    /// </summary>
    public async Task<IReadOnlyList<ExpectationResult>> EvaluateAlongsideAsync(IReadOnlyList<Expectation> expectations, CancellationToken ct)
    {
        using var gate = new SemaphoreSlim(Alongside);
        var observed = await Task.WhenAll(expectations.Select(async e =>
        {
            await gate.WaitAsync(ct);
            try { return await ObserveUntilDecidedAsync(e, ct); }
            finally { gate.Release(); }
        }));
        var results = new List<ExpectationResult>();
        for (var i = 0; i < expectations.Count; i++) results.Add(await ExplainAsync(expectations[i], observed[i], ct));
        return results;
    }

    /// <summary>How many expectations are observed at once (<see cref="EvaluateAlongsideAsync"/>): pings wait on the kernel more than on a CPU.</summary>
    public const int Alongside = 8;

    private async Task<ExpectationResult> ObserveUntilDecidedAsync(Expectation expectation, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var attempts = 0;
        while (true)
        {
            attempts++;
            var (held, observed) = await expectation.ObserveAsync(_context, ct);
            if (held || watch.Elapsed >= expectation.Within)
                return new ExpectationResult(held, session.Expand(expectation.Describe()), observed, attempts, watch.Elapsed);
            await Task.Delay(RetryInterval, ct);
        }
    }

    private async Task<ExpectationResult> ExplainAsync(Expectation expectation, ExpectationResult result, CancellationToken ct) =>
        runner.IsDryRun || result.Held && expectation.Why.IsEmpty
            ? result
            : Explained(result, expectation, await expectation.DiagnoseAsync(_context, result.Held, ct));

    /// <summary>
    /// The result with its diagnosis; with a <c>why</c>, an expectation that held holds only if the diagnosis found each
    /// class named, and its observed says which were found.
    /// </summary>
    internal static ExpectationResult Explained(ExpectationResult result, Expectation expectation, IReadOnlyList<Diagnosis.Finding> findings)
    {
        var found = findings.Select(f => f.Class).OfType<string>().Distinct().ToList();
        result = result with { Diagnosis = [.. findings.Select(f => f.Text)], DiagnosisClasses = found };
        if (expectation.Why.IsEmpty || !result.Held) return result; // the failure expected did not happen: nothing to explain
        var missing = expectation.Why.Where(id => !found.Contains(id)).ToList();
        var foundText = found.Count == 0 ? "no class" : string.Join(", ", found);
        return result with
        {
            Held = result.Held && missing.Count == 0,
            Observed = result.Observed + (missing.Count == 0
                ? $"; why: {foundText}"
                : $"; why: the diagnosis found {foundText}, not {string.Join(", ", missing)}"),
        };
    }
}
