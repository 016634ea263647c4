using System.Runtime.CompilerServices;
using System.Text;
using LabRunner.Authoring;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Runtimes;
using Xunit;
using Xunit.Sdk;

namespace LabRunner.Xunit;

/// <summary>
/// A lab built once for a test class (<c>IClassFixture&lt;MyLab&gt;</c>) or collection (<c>ICollectionFixture</c>) and
/// torn down after its last test. Derive, and say which lab in <see cref="CreateScenario"/>:
/// <code>
/// public sealed class RouterLab : LabFixture
/// {
///     protected override Scenario CreateScenario() => Lab.Named("router").Step(...).Build();
/// }
/// </code>
/// At start it builds the sandbox and runs every step with its expectations (a failing step fails the fixture,
/// so every test of the class, with expected vs observed); tests then assert against the live lab with
/// <see cref="ExpectAsync"/> or change it with <see cref="RunStepAsync"/>. Everything is torn down from the
/// journal at the end, and a teardown that leaves something behind fails the run. On a machine that cannot run
/// labs (not root, a tool missing) nothing is started and the lab's tests skip with the reason.
/// </summary>
public abstract class LabFixture : IAsyncLifetime
{
    private readonly StringBuilder _transcript = new();
    private readonly Dictionary<int, StepOutcome> _scenarioSteps = [];
    private Scenario? _scenario;
    private Scenario? _current;
    private LiveLab? _lab;
    private string? _skipReason;
    private bool _started;

    /// <summary>The lab: a C# builder's <c>Build()</c>, or a YAML file's scenario. Called once, before anything runs.</summary>
    protected abstract Scenario CreateScenario();

    /// <summary>True (default): run every step at start. False: steps run one by one with <see cref="AssertStepAsync"/>.</summary>
    protected virtual bool RunStepsOnStart => true;

    /// <summary>The container runtime (default: the built-in process runtime).</summary>
    protected virtual string RuntimeName => "process";

    /// <summary>
    /// How ip commands run: netlink or iproute2 (<see cref="CommandDrivers"/>); by default <c>$LABRUNNER_DRIVER</c>, else
    /// netlink, as `labrunner run` without --driver.
    /// </summary>
    protected virtual string DriverName => CommandDrivers.FromEnvironment();

    /// <summary>Engine options; the default is a sandbox with a random lab id, as `labrunner run` does.</summary>
    protected virtual LabOptions Options => new();

    /// <summary>The scenario as defined; built (and checked) on first use.</summary>
    public Scenario Scenario => _scenario ??= CreateScenario();

    /// <summary>Why the lab was not started on this machine, or null.</summary>
    public string? SkipReason => _skipReason;

    /// <summary>The live lab (session, step outcomes); skips the calling test when the machine cannot run labs.</summary>
    public LiveLab Live
    {
        get
        {
            if (_skipReason is not null) Assert.Skip(_skipReason);
            return _lab ?? throw new InvalidOperationException(
                $"the lab {Scenario.Name} is not running: use the fixture through IClassFixture<> or ICollectionFixture<> (xunit starts it), or call InitializeAsync first");
        }
    }

    /// <summary>The live names of the lab: its id, namespaces, container PIDs.</summary>
    public LabSession Session => Live.Session;

    /// <summary>Everything the lab reported so far (commands, checks), as the console reporter would show it.</summary>
    public string Transcript
    {
        get { lock (_transcript) return _transcript.ToString(); }
    }

    public async ValueTask InitializeAsync()
    {
        var scenario = Scenario; // an invalid lab throws here, with file:line:col, before anything runs
        _current = scenario;
        _skipReason = LabRequirements.Problem(scenario, runtime: RuntimeName);
        if (_skipReason is not null) return;

        var ct = TestContext.Current.CancellationToken;
        var observer = new XunitObserver(this);
        var runner = CommandDrivers.Create(DriverName, new CliWrapCommandRunner(observer.CommandRan), observer.CommandRan);
        var runtime = ContainerRuntimes.Create(RuntimeName, runner, observer.CommandRan);
        var engine = new LabEngine(runner, runtime, observer, Options with { ScenarioPath = Options.ScenarioPath is "" ? scenario.Span.File : Options.ScenarioPath });
        _lab = await engine.StartAsync(scenario, ct);
        _started = true;
        if (!RunStepsOnStart) return;

        var failure = await _lab.RunStepsAsync(ct);
        if (failure is null) return;
        var result = await _lab.TearDownAsync();
        throw LabAssertionException.StepFailed(failure, $"the lab {scenario.Name} could not be built; it has been torn down" +
            (result.Teardown.Clean ? "" : $", but left: {string.Join("; ", result.Teardown.Leftovers)}"));
    }

    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_lab is null || !_started) return;
        var result = await _lab.TearDownAsync();
        if (!result.Teardown.Clean)
            throw new InvalidOperationException(
                $"teardown of lab {result.LabId} left something behind: {string.Join("; ", result.Teardown.Leftovers)}; run `labrunner clean` to retry");
    }

    /// <summary>
    /// Checks expectations against the live lab now: <c>await lab.ExpectAsync(e => e.Ping(from: "h1", to: "10.0.2.10"), ct)</c>.
    /// Names resolve against the lab. Fails the test with expected vs observed for each that does not hold.
    /// </summary>
    public async Task ExpectAsync(Func<ExpectationPicker, StepBuilder> expect, CancellationToken ct = default,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        ArgumentNullException.ThrowIfNull(expect);
        var lab = Live;
        var step = Extend("check", s => expect(s.Expect), file, line).Steps[^1];
        var checks = new List<CheckOutcome>();
        foreach (var expectation in step.Expectations)
            checks.Add(new CheckOutcome(expectation, await lab.CheckAsync(expectation, ct)));
        if (checks.Any(c => !c.Result.Held))
            throw LabAssertionException.ChecksFailed(checks);
    }

    /// <summary>
    /// Runs one more step on the live lab (its actions are journaled and undone at teardown), then its expectations;
    /// fails the test with expected vs observed if the step fails. Names resolve against the lab and the steps
    /// run before; what the step changes stays for the next tests of the fixture, so undo it in a later step
    /// (or give the test its own fixture) when other tests rely on the original state.
    /// </summary>
    public async Task<StepOutcome> RunStepAsync(string title, Func<StepBuilder, StepBuilder> build, CancellationToken ct = default,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0)
    {
        var lab = Live;
        var next = Extend(title, build, file, line);
        var outcome = await lab.RunStepAsync(next.Steps[^1], ct);
        _current = next; // its actions happened (or were attempted): later steps may use what it made
        return outcome.Passed ? outcome : throw LabAssertionException.StepFailed(outcome, null);
    }

    /// <summary>
    /// For scenarios run step by step (<see cref="RunStepsOnStart"/> false): runs the scenario's steps up to
    /// <paramref name="index"/> that have not run yet, then passes or fails as step <paramref name="index"/> did.
    /// A step after a failed one is skipped ("not run"), as `labrunner run` stops at the first failing step.
    /// </summary>
    public async Task AssertStepAsync(int index, CancellationToken ct = default)
    {
        var lab = Live;
        var steps = Scenario.Steps;
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, steps.Length);
        if (RunStepsOnStart && _scenarioSteps.Count == 0)
            for (var i = 0; i < Math.Min(lab.Outcomes.Count, steps.Length); i++) _scenarioSteps[i] = lab.Outcomes[i];
        for (var i = 0; i <= index; i++)
        {
            if (!_scenarioSteps.TryGetValue(i, out var outcome))
                _scenarioSteps[i] = outcome = await lab.RunStepAsync(steps[i], ct);
            if (outcome.Passed) continue;
            if (i == index) throw LabAssertionException.StepFailed(outcome, null);
            Assert.Skip($"not run: step {i + 1} \"{steps[i].Title}\" failed before it");
        }
    }

    private Scenario Extend(string title, Func<StepBuilder, StepBuilder> build, string file, int line) =>
        Authoring.Lab.From(_current ?? Scenario).Step(title, build, file, line).Build();

    internal void Log(string line)
    {
        lock (_transcript) _transcript.AppendLine(line);
        var output = TestContext.Current.TestOutputHelper;
        if (output is not null)
        {
            try { output.WriteLine(line); }
            catch (InvalidOperationException) { } // no test is running on this context any more
        }
    }
}

/// <summary>
/// A YAML (or any file the loader reads) scenario as a fixture, for running it as a test with one result per step:
/// <code>
/// public sealed class ArticleYaml() : ScenarioFileFixture("scenarios/article/article.yaml");
///
/// public sealed class ArticleYamlSteps(ArticleYaml lab) : IClassFixture&lt;ArticleYaml&gt;
/// {
///     [LabTheory, ScenarioSteps(typeof(ArticleYaml))]
///     public Task Step(int index) => lab.AssertStepAsync(index, TestContext.Current.CancellationToken);
/// }
/// </code>
/// A relative path is looked for from the test assembly's directory upwards, so a path from the repository
/// root works wherever the tests run.
/// </summary>
public abstract class ScenarioFileFixture(string path) : LabFixture
{
    /// <summary>The file found for the path given.</summary>
    public string FilePath => Find(path);

    protected override bool RunStepsOnStart => false;

    protected override Scenario CreateScenario() => ScenarioLoader.LoadFile(FilePath);

    /// <summary>
    /// An absolute path as it is; a relative one from the current directory, else from the test assembly's
    /// directory and each directory above it.
    /// </summary>
    public static string Find(string path)
    {
        if (Path.IsPathRooted(path) || File.Exists(path)) return path;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, path);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException(
            $"scenario {path} not found in {Directory.GetCurrentDirectory()} nor in {AppContext.BaseDirectory} or a directory above it; give an absolute path or one from the repository root",
            path);
    }
}

/// <summary>Reports lab events into the test's output (and the fixture's transcript), as the console reporter does.</summary>
internal sealed class XunitObserver(LabFixture fixture) : LabObserver
{
    public override void StepStarting(Step step, int index, int count) => fixture.Log($"== step {index + 1}: {step.Title}");

    public override void CommandRan(CommandEvent command)
    {
        if (command.Purpose is CommandPurpose.Check) return;
        fixture.Log($"  $ {command.Display}" + (command.Outcome.Succeeded ? "" : $"  -> exit {command.Outcome.ExitCode}: {command.Outcome.Error}"));
    }

    public override void ActionFinished(LabAction action, ActionOutcome outcome)
    {
        if (outcome.Status == ActionStatus.FailedAsExpected) fixture.Log($"  ✓ {action.Keyword} failed as expected: {outcome.Observed}");
        else if (!outcome.Ok) fixture.Log($"  ✗ {action.Keyword} ({action.Span}): {outcome.Status}: {outcome.Observed}");
    }

    public override void ExpectationFinished(Expectation expectation, ExpectationResult result) =>
        fixture.Log(result.Held
            ? $"  ✓ {result.Expected} ({result.Observed})"
            : $"  ✗ {result.Expected} ({expectation.Span})\n      expected: {result.Expected}\n      observed: {result.Observed}" +
              string.Concat(result.Diagnosis.Select(d => $"\n      why: {d}")));

    public override void TeardownStarting(int records) => fixture.Log($"== teardown: {records} undo records, newest first");

    public override void TeardownFinished(TeardownReport report)
    {
        foreach (var problem in report.Problems) fixture.Log($"  ! {problem}");
        foreach (var left in report.Leftovers) fixture.Log($"  ✗ left behind: {left}");
        if (report.Clean) fixture.Log("  ✓ nothing of the lab is left on the host");
    }
}

/// <summary>
/// A lab expectation or step that failed, shown as a test failure (not an error) with expected vs observed and
/// where the expectation was written.
/// </summary>
public sealed class LabAssertionException(string message) : Exception(message), IAssertionException
{
    public static LabAssertionException StepFailed(StepOutcome outcome, string? context)
    {
        var text = new StringBuilder();
        if (context is not null) text.AppendLine(context + ":");
        text.AppendLine($"step \"{outcome.Step.Title}\" failed ({outcome.Step.Span})");
        var described = 0;
        foreach (var check in outcome.Checks.Where(c => !c.Result.Held))
        {
            Describe(text, check);
            described++;
        }
        // An action that failed (or did not fail as it had to), as the engine words it.
        if (described == 0)
            foreach (var failure in outcome.Failures) text.AppendLine("  " + failure);
        return new LabAssertionException(text.ToString().TrimEnd());
    }

    public static LabAssertionException ChecksFailed(IReadOnlyList<CheckOutcome> checks)
    {
        var text = new StringBuilder();
        var failed = checks.Where(c => !c.Result.Held).ToList();
        text.AppendLine(failed.Count == 1 ? "a lab expectation failed" : $"{failed.Count} lab expectations failed");
        foreach (var check in failed) Describe(text, check);
        return new LabAssertionException(text.ToString().TrimEnd());
    }

    private static void Describe(StringBuilder text, CheckOutcome check)
    {
        text.AppendLine($"  at {check.Expectation.Span}");
        text.AppendLine($"  expected: {check.Result.Expected}");
        text.AppendLine($"  observed: {check.Result.Observed} (after {check.Result.Attempts} tries in {check.Result.Elapsed.TotalSeconds:0.0}s)");
        foreach (var finding in check.Result.Diagnosis) text.AppendLine($"  why: {finding}");
    }
}
