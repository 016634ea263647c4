using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Model;
using LabRunner.Platform;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

/// <summary>
/// Test-only: send <see cref="Signal"/> to ourselves right after scenario action number <see cref="AfterAction"/>
/// (1-based), or, with <see cref="WhileCommand"/>, while that action's command is running (<see cref="FaultInCommandRunner"/>).
/// </summary>
public sealed record FaultInjection(int AfterAction, int Signal)
{
    /// <summary>
    /// The last word of one of the action's commands (e.g. "/usr/lib/cni/bridge"): the first such command of action
    /// <see cref="AfterAction"/> signals the run itself once it has started, and then goes on without it.
    /// </summary>
    public string? WhileCommand { get; init; }

    /// <summary>How long that command waits after the signal before it goes on (a slow command, still running when `clean` comes).</summary>
    public TimeSpan Hold { get; init; }
}

/// <summary>What a pause before a step answers: run it, or end the run here (tear down, as if the lab ended).</summary>
public enum StepGo
{
    Run,
    Quit,
}

/// <summary>The run paused before <see cref="Step"/> (0-based <see cref="Index"/> of <see cref="Count"/>), its lab up.</summary>
public sealed record StepPause(LiveLab Lab, Step Step, int Index, int Count)
{
    /// <summary>True: paused between the step's actions (all done) and its expectations (<see cref="LabOptions.BeforeExpectations"/>).</summary>
    public bool BeforeExpectations { get; init; }

    /// <summary>Where the run paused, for reasons: "step 3.4" or "the expectations of step 3.4".</summary>
    public string Where => (BeforeExpectations ? "the expectations of step " : "step ") + StepSelector.Ref(Step, Index);
}

/// <summary>A pause answered <see cref="StepGo.Quit"/> inside a step (<see cref="LabOptions.BeforeExpectations"/>): the run ends there.</summary>
internal sealed class QuitAtPauseException() : Exception("the run was ended at a pause");

public sealed record LabOptions
{
    /// <summary>True (default): the lab's host is a namespace of its own. False: the caller's namespace (--host).</summary>
    public bool Sandbox { get; init; } = true;

    public string StateRoot { get; init; } = LabJournal.DefaultRoot;

    /// <summary>Fixed lab id (tests, golden plans); by default a random one per run.</summary>
    public string? LabId { get; init; }

    /// <summary>Path shown in the journal header, so `clean` can say which lab it is cleaning.</summary>
    public string ScenarioPath { get; init; } = "";

    /// <summary>
    /// Called before each step of <see cref="LabEngine.RunAsync"/> (a workshop's pause): <see cref="StepGo.Quit"/> ends the
    /// run there, torn down as if the lab ended after the steps run so far.
    /// </summary>
    public Func<StepPause, CancellationToken, Task<StepGo>>? BeforeStep { get; init; }

    /// <summary>
    /// Called in each step of <see cref="LabEngine.RunAsync"/> once its actions are all done, before its expectations
    /// are checked (also for a step without expectations; not after an action failed: the step fails there). A lock-step
    /// controller (<c>labrunner part</c>) waits there for every host's actions. <see cref="StepGo.Quit"/> ends the run
    /// there: the step is cut short (not passed, its expectations not run) and torn down, as a quit before a step is.
    /// </summary>
    public Func<StepPause, CancellationToken, Task<StepGo>>? BeforeExpectations { get; init; }

    /// <summary>
    /// A capture's ping on another host (<c>while: { ping: { on: b, … } }</c>): run by the controller of a lab across
    /// hosts on that host, while this host's captures listen (<c>labrunner part</c>). Null: such a capture fails, saying so.
    /// </summary>
    public Func<CaptureTraffic, CancellationToken, Task<CommandOutcome>>? OtherHostTraffic { get; init; }

    /// <summary>
    /// Why a run ended when a pause answered <see cref="StepGo.Quit"/>, for the steps not run (<see cref="LabResult.StoppedEarly"/>);
    /// by default "ended at the pause before step 3.4 (q)", --step's.
    /// </summary>
    public Func<StepPause, string>? QuitReason { get; init; }

    /// <summary>
    /// The last step <see cref="LabEngine.RunAsync"/> runs (0-based; <c>--until</c>), then it tears down: the run ends
    /// there as if the lab did, and the steps after it are reported as not run. Null: every step.
    /// </summary>
    public int? Until { get; init; }

    public FaultInjection? Fault { get; init; }

    /// <summary>
    /// After each step, read what the kernel holds in every place of the lab (<see cref="LabObserver.TopologyObserved"/>),
    /// for the pictures of the HTML report and the transcript: one `ip -j -d addr show` check per namespace. Off by
    /// default (it costs a command per namespace and step); never in a plan.
    /// </summary>
    public bool ObserveTopology { get; init; }

    /// <summary>
    /// Keep the packets of every capture expectation (<see cref="ExpectationResult.Captures"/>) for a bug bundle
    /// (<c>--bundle</c>): each pcap file is read, up to <see cref="Reporting.BugBundle.MaxCaptureBytes"/>, before it is
    /// deleted as always. Off by default (the bytes stay in memory until the run's reports are written).
    /// </summary>
    public bool KeepCaptures { get; init; }
}

/// <summary>
/// Runs a scenario: sandbox, steps (actions then expectations), and always teardown, whatever happens
/// in between: a failed expectation, an exception, SIGINT or SIGTERM (via <paramref name="ct"/>).
/// With a <see cref="DryRunCommandRunner"/> it produces the plan: the same commands, none run.
/// </summary>
public sealed class LabEngine(ICommandRunner runner, IContainerRuntime runtime, LabObserver observers, LabOptions options)
{
    /// <summary>Reporters behind a guard: one that fails (stdout on a full disk) stops the run, never its teardown.</summary>
    private readonly CompositeObserver observer = observers as CompositeObserver ?? new CompositeObserver(observers);

    /// <summary>
    /// The whole lab: <see cref="StartAsync"/>'s sandbox, every step in order (stopping at the first that fails),
    /// then teardown. A signal (<paramref name="ct"/>), an exception or an environment problem still tears down.
    /// </summary>
    public async Task<LabResult> RunAsync(Scenario scenario, CancellationToken ct = default)
    {
        var lab = await CreateAsync(scenario, ct);
        lab.BeforeExpectations = options.BeforeExpectations;
        lab.QuitReason = options.QuitReason ?? DefaultQuitReason;
        EnvironmentProblemException? environmentProblem = null;
        // A signal (ct) or a reporter that cannot write (observer.Failed) stops the run; either way it is torn down.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, observer.Failed);
        try
        {
            await BuildAsync(lab, stop.Token);
            for (var i = 0; i < scenario.Steps.Length; i++)
            {
                var step = scenario.Steps[i];
                stop.Token.ThrowIfCancellationRequested();
                if (options.Until is { } last && i > last)
                {
                    var until = scenario.Steps[last];
                    lab.MarkStopped($"ended after step {StepSelector.Ref(until, last)} (--until)");
                    break;
                }
                var pause = new StepPause(lab, step, i, scenario.Steps.Length);
                if (options.BeforeStep is not null && await options.BeforeStep(pause, stop.Token) == StepGo.Quit)
                {
                    lab.MarkStopped(lab.QuitReason(pause));
                    break;
                }
                if (!(await lab.RunStepAsync(step, stop.Token)).Passed) break;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            if (ct.IsCancellationRequested) lab.MarkInterrupted();
        }
        catch (QuitAtPauseException)
        {
            // Quit between a step's actions and its expectations: marked stopped already; the step is left cut short.
        }
        catch (EnvironmentProblemException e)
        {
            // Not the lab's fault but the machine's (exit 3): tear down what was built, then say so.
            environmentProblem = e;
            lab.RecordError($"environment: {e.Message}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug or an environment surprise: report it, and still tear down below.
            lab.RecordError($"error: {e.Message}");
        }

        var result = await lab.TearDownAsync(); // never cancelled by the signal that caused it
        if (observer.Failure is { } output && !ct.IsCancellationRequested)
            environmentProblem ??= new EnvironmentProblemException($"the run's output could not be written ({output.GetBaseException().Message}), so lab {lab.Session.LabId} was stopped and torn down" +
                                                                   (result.Teardown.Clean ? "; nothing of the lab is left" : $"; left behind: {string.Join("; ", result.Teardown.Leftovers)}"),
                "check where standard output goes (a full disk? a closed terminal?), or send it to a file with room");
        if (environmentProblem is not null && result.Teardown.Clean) throw environmentProblem;
        return result;
    }

    private static string DefaultQuitReason(StepPause pause) => $"ended at the pause before {pause.Where} (q)";

    /// <summary>
    /// Builds the lab's sandbox (or, with --host, checks the host) and returns the live lab without running any
    /// step and without tearing down: for test fixtures that build a lab once, assert against it many times,
    /// and tear it down at the end. Steps then run one at a time with <see cref="LiveLab.RunStepAsync"/>, with
    /// the same journal, events and checks as <see cref="RunAsync"/>; <see cref="LiveLab.DisposeAsync"/> tears
    /// down. If the sandbox cannot be built, what was built is torn down before the exception propagates.
    /// </summary>
    public async Task<LiveLab> StartAsync(Scenario scenario, CancellationToken ct = default)
    {
        var lab = await CreateAsync(scenario, ct);
        try
        {
            await BuildAsync(lab, ct);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Everything before the first change to the host: --host's name clash check, the runtime's daemon and image,
    /// then the journal (so that from here on every change has its undo on disk first).
    /// </summary>
    private async Task<LiveLab> CreateAsync(Scenario scenario, CancellationToken ct)
    {
        // In-process hosts (LabRunner.Xunit) too: descriptors they inherited are not for the lab's children.
        if (!runner.IsDryRun) Platform.Descriptors.CloseInheritedOnExec();
        // pcap filters are compiled by libpcap, so only here (not in the loader) can a bad one be found: still before any change.
        if (!runner.IsDryRun && await PreflightAsync(scenario, ct) is { Length: > 0 } refused)
            throw new Loading.ScenarioInvalidException(refused);
        if (!options.Sandbox && Kinds.HostModel.Play(scenario).UsesWan)
            throw new UsageException("the lab works in 'wan', the far side of the sandbox's uplink, and with --host there is none",
                "run it without --host (in a sandbox), or give the lab a netns of its own for the outside (netns-add) instead of 'wan'");
        var session = new LabSession(options.LabId ?? NewLabId(), options.Sandbox, scenario.Uplink) { OtherHostTraffic = options.OtherHostTraffic };
        // The runtime first: the --host preflight asks it whether the lab's container names are taken.
        if (!runner.IsDryRun && scenario.AllActions.Any(a => a.UsesContainerRuntime)) await runtime.PrepareAsync(ct);
        if (!options.Sandbox && !runner.IsDryRun) await PreflightHostModeAsync(scenario, session, ct);
        LabJournal journal;
        (session, journal) = ClaimJournal(session, scenario);
        return new LiveLab(scenario, session, journal, runner, runtime, observer, RuntimeNamed, options.Fault) { ObserveTopology = options.ObserveTopology, KeepCaptures = options.KeepCaptures };
    }

    private async Task<System.Collections.Immutable.ImmutableArray<Loading.ScenarioError>> PreflightAsync(Scenario scenario, CancellationToken ct)
    {
        var (errors, missing) = await LabPreflight.CheckAsync(scenario, runner, ct);
        if (missing.Count > 0)
            throw new EnvironmentProblemException($"this lab needs {string.Join(", ", missing.Select(t => t.Name))}, which {(missing.Count == 1 ? "is" : "are")} not installed",
                $"apt-get install -y {string.Join(' ', missing.Select(t => t.Package).Distinct())} (or run ./run-lab.sh, which installs it)");
        return errors;
    }

    private async Task BuildAsync(LiveLab lab, CancellationToken ct)
    {
        observer.LabStarting(lab.Scenario, lab.Session);
        if (options.Sandbox) await BuildSandboxAsync(lab.Session, lab.Journal, ct);
        observer.SandboxReady(lab.Session);
    }

    /// <summary>
    /// The journal's exclusive create is what makes a lab id (and so every lr-ID-* name) one run's alone. A random id
    /// that is taken (by a live run, or a dead one not cleaned yet) is replaced by another; a fixed one is an error.
    /// </summary>
    private (LabSession, LabJournal) ClaimJournal(LabSession session, Scenario scenario)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return (session, OpenJournal(session, scenario));
            }
            catch (IOException) when (options.LabId is null && attempt < 10 && Directory.Exists(Path.Combine(options.StateRoot, session.LabId)))
            {
                session = new LabSession(NewLabId(), options.Sandbox, session.Uplink) { UplinkIp = session.UplinkIp, OtherHostTraffic = options.OtherHostTraffic };
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && !Directory.Exists(Path.Combine(options.StateRoot, session.LabId)))
            {
                // Nothing is built yet and nothing was left (Create removes its own half): the machine's problem, exit 3.
                throw new EnvironmentProblemException($"cannot write the run's journal in {options.StateRoot}: {e.Message}",
                    $"free space in {options.StateRoot} (df -h {options.StateRoot}), or give another directory with --state-dir");
            }
        }
    }

    private LabJournal OpenJournal(LabSession session, Scenario scenario)
    {
        var header = new JournalHeader(session.LabId, Environment.ProcessId, Processes.StartTime(Environment.ProcessId) ?? 0,
            options.ScenarioPath, options.Sandbox, DateTimeOffset.UtcNow) { Lab = scenario.Name, Runtime = runtime.Name };
        return runner.IsDryRun ? LabJournal.InMemory(header) : LabJournal.Create(options.StateRoot, header);
    }

    /// <summary>The article's host, in a namespace of its own: lo, and an uplink whose far end is in a second namespace.</summary>
    private async Task BuildSandboxAsync(LabSession session, LabJournal journal, CancellationToken ct)
    {
        var host = session.HostNetns!;
        var wan = session.WanNetns!;
        var uplink = session.Uplink;
        await SetupAsync(["ip", "netns", "add", host], ActionExecutor.DeleteNetns(host, "sandbox host"), journal, ct);
        await SetupAsync(["ip", "-n", host, "link", "set", "lo", "up"], null, journal, ct);
        await SetupAsync(["ip", "netns", "add", wan], ActionExecutor.DeleteNetns(wan, "sandbox uplink network"), journal, ct);
        await SetupAsync(["ip", "-n", host, "link", "add", "name", uplink.Name, "type", "veth", "peer", "name", "wan0", "netns", wan],
            ActionExecutor.DeleteLink(session.Host, uplink.Name), journal, ct);
        await SetupAsync(["ip", "-n", host, "addr", "add", uplink.Address, "dev", uplink.Name], null, journal, ct);
        await SetupAsync(["ip", "-n", wan, "link", "set", "wan0", "up"], null, journal, ct);
        await SetupAsync(["ip", "-n", host, "link", "set", "dev", uplink.Name, "up"], null, journal, ct);
    }

    private async Task SetupAsync(string[] argv, UndoRecord? undo, LabJournal journal, CancellationToken ct)
    {
        int? seq = undo is null ? null : journal.Append(undo);
        var outcome = await runner.RunAsync(argv, CommandPurpose.Setup, ct);
        if (outcome.Succeeded) return;
        if (seq is { } s) journal.Cancel(s);
        throw new EnvironmentProblemException($"could not build the sandbox: `{argv.Display()}` failed: {outcome.Error}",
            "LabRunner needs root and a kernel with network namespaces and veth (run it as root, or in a privileged VM)");
    }

    /// <summary>
    /// With --host the lab works in the caller's namespace: refuse to start if a name it would create already
    /// exists (it would otherwise change or delete something it did not make), and read the uplink's address.
    /// </summary>
    private async Task PreflightHostModeAsync(Scenario scenario, LabSession session, CancellationToken ct)
    {
        var probe = new HostProbe(runner, runtime, session);
        var clashes = new List<string>();
        foreach (var action in scenario.AllActions) clashes.AddRange(await action.HostClashesAsync(probe, ct));
        if (clashes.Count > 0) throw new HostConflictException(clashes.Distinct().ToList());

        var addr = await runner.RunAsync(["ip", "-j", "addr", "show", "dev", session.Uplink.Name], CommandPurpose.Check, ct);
        var ip = addr.Succeeded
            ? JsonDocument.Parse(addr.Stdout).RootElement.EnumerateArray()
                .SelectMany(l => l.GetProperty("addr_info").EnumerateArray())
                .Where(a => a.GetProperty("family").GetString() == "inet")
                .Select(a => a.GetProperty("local").GetString())
                .FirstOrDefault()
            : null;
        session.UplinkIp = ip ?? throw new EnvironmentProblemException(
            $"--host: the uplink {session.Uplink.Name} has no IPv4 address in this namespace" + (addr.Succeeded ? "" : $" ({addr.Error})"),
            "name the host's uplink with --uplink NAME (e.g. --uplink eth0), or run without --host (sandbox)");
    }

    /// <summary>The caller's namespace as --host's preflight sees it.</summary>
    private sealed class HostProbe(ICommandRunner runner, IContainerRuntime runtime, LabSession session) : Kinds.IHostProbe
    {
        public string RuntimeName => runtime.Name;

        public async Task<bool> LinkExistsAsync(string name, CancellationToken ct) =>
            (await runner.RunAsync(["ip", "link", "show", "dev", name], CommandPurpose.Check, ct)).Succeeded;

        public bool NetnsExists(string name) => File.Exists($"/var/run/netns/{name}");

        public async Task<bool?> ContainerExistsAsync(string name, CancellationToken ct) =>
            (await runtime.FindAsync(session.PhysicalName(name), ct)).Exists;
    }

    /// <summary>Journals name runtimes; a lab uses one, but teardown resolves by name like `clean` does.</summary>
    private IContainerRuntime RuntimeNamed(string name) =>
        name == runtime.Name ? runtime : ContainerRuntimes.Create(name, runner);


    /// <summary>A random id whose names are free: no journal in the state root, no lr-ID namespace (another state root's lab).</summary>
    private string NewLabId()
    {
        while (true)
        {
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
            if (runner.IsDryRun) return id;
            if (Directory.Exists(Path.Combine(options.StateRoot, id))) continue;
            if (Directory.Exists("/var/run/netns") && Directory.EnumerateFileSystemEntries("/var/run/netns", $"lr-{id}*").Any()) continue;
            return id;
        }
    }
}
