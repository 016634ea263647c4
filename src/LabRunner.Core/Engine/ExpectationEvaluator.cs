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
        var watch = Stopwatch.StartNew();
        var attempts = 0;
        _context.Capture.TakeKept(); // nothing of an earlier expectation (one cut short) is this one's
        while (true)
        {
            attempts++;
            var (held, observed) = await expectation.ObserveAsync(_context, ct);
            if (held || watch.Elapsed >= expectation.Within)
            {
                var result = new ExpectationResult(held, session.Expand(expectation.Describe()), observed, attempts, watch.Elapsed)
                {
                    Captures = _context.Capture.TakeKept(), // the last attempt's: the one that decided
                };
                if (runner.IsDryRun || held && expectation.Why.IsEmpty) return result;
                return Explained(result, expectation, await expectation.DiagnoseAsync(_context, held, ct));
            }
            await Task.Delay(RetryInterval, ct);
        }
    }

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
