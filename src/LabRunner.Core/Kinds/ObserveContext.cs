using System.Text.Json;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Model;

namespace LabRunner.Kinds;

/// <summary>
/// What an expectation's <see cref="Expectation.ObserveAsync"/> works with: the run's live names, the command runner,
/// commands in a place (a container's through its runtime), packet captures and the diagnosis of a failure (Engine/Diagnosis).
/// Inspection uses iproute2's JSON output from outside the namespace.
/// </summary>
public sealed class ObserveContext
{
    internal ObserveContext(LabSession session, ICommandRunner runner, PlaceCommands places, PacketCapture capture, Engine.Diagnosis.DiagnosisWalk diagnosis)
    {
        Session = session;
        Runner = runner;
        Places = places;
        Capture = capture;
        Diagnosis = diagnosis;
    }

    public LabSession Session { get; }

    public ICommandRunner Runner { get; }

    /// <summary>The run's state directory (where <c>cni-add</c> keeps its results), or null in a plan.</summary>
    public string? StateDirectory { get; init; }

    /// <summary>
    /// What expectations read when their step began (<see cref="Expectation.BeginStepAsync"/>), by expectation; emptied
    /// at each step's start.
    /// </summary>
    public Dictionary<Expectation, object> StepStart { get; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>What an expectation worked out once for the whole run (a rule's canonical text), by a key of its own.</summary>
    public Dictionary<string, string> RunMemo { get; } = new(StringComparer.Ordinal);

    internal PlaceCommands Places { get; }

    internal PacketCapture Capture { get; }

    internal Engine.Diagnosis.DiagnosisWalk Diagnosis { get; }

    public NetTarget Target(Place place) => Session.Target(place);

    public Task<CommandOutcome> CheckAsync(IReadOnlyList<string> argv, CancellationToken ct) => Runner.RunAsync(argv, CommandPurpose.Check, ct);

    /// <summary>A link as <c>ip -j -d link show dev NAME</c> has it, or null when it is not there.</summary>
    public async Task<JsonElement?> LinkJsonAsync(NetTarget t, string name, CancellationToken ct)
    {
        var outcome = await CheckAsync(t.Ip("-j", "-d", "link", "show", "dev", name), ct);
        return outcome.Succeeded ? Json(outcome.Stdout).EnumerateArray().FirstOrDefault() : null;
    }

    /// <summary>The MAC of a link (<c>mac-of: { link, in }</c>: MACs are random, so known only at run time), or null when it is not there.</summary>
    public async Task<string?> MacOfAsync(Place place, string link, CancellationToken ct) =>
        await LinkJsonAsync(Target(place), link, ct) is { } json ? Execution.IpJson.Str(json, "address") : null;

    /// <summary>iproute2's JSON; empty output is an empty list.</summary>
    public static JsonElement Json(string text) =>
        string.IsNullOrWhiteSpace(text) ? JsonDocument.Parse("[]").RootElement : JsonDocument.Parse(text).RootElement;

    /// <summary>Words of a value as sysctl prints them (tabs in multi-value keys), joined by single spaces.</summary>
    public static string Words(string text) => string.Join(' ', text.Split([' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries));
}
