using System.Xml.Linq;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Reporting;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The engine's step control (issue 15): --until ends a run after a step as if the lab ended there, a pause may quit,
/// the journal says which step a run is at, and a pause can read the state of every place. Plans, or a recording
/// runner that runs nothing: no namespace is made.
/// </summary>
public sealed class StepControlSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Scenario Article = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));

    private static (LabEngine Engine, RunRecorder Recorder) Dry(string state, LabOptions options)
    {
        var recorder = new RunRecorder();
        var runner = new DryRunCommandRunner(recorder.CommandRan);
        return (new LabEngine(runner, new ProcessRuntime(runner, recorder.CommandRan), recorder, options with { LabId = "5c0001", StateRoot = state }), recorder);
    }

    [Fact]
    public async Task Until_ends_the_run_after_that_step_as_if_the_lab_ended_there()
    {
        using var state = new TempDirectory();
        var until = StepSelector.Find(Article, "3.4", "--until");
        var (engine, recorder) = Dry(state.Path, new LabOptions { Until = until });

        var result = await engine.RunAsync(Article, Ct);

        Assert.Equal(LabOutcome.Passed, result.Outcome);
        Assert.Equal(ExitCodes.Passed, result.ExitCode());
        Assert.Equal("ended after step 3.4 (--until)", result.StoppedEarly);
        var record = recorder.Record;
        Assert.Equal("3.4 ARP is correct", record.Steps[^1].Step.Title);
        Assert.Equal(until + 1, record.Steps.Length);
        Assert.Equal(["3.5", "3.6", "3.7", "3.8", "4.1", "4.2"], record.NotRun.Select(s => s.Number));
        Assert.NotEmpty(record.TeardownCommands); // torn down all the same
    }

    [Fact]
    public async Task The_reports_of_a_run_ended_by_until_say_so_for_each_step_not_run()
    {
        using var state = new TempDirectory();
        var (engine, recorder) = Dry(state.Path, new LabOptions { Until = StepSelector.Find(Article, "4.1", "--until") });
        await engine.RunAsync(Article, Ct);

        var junit = JUnitReport.Create(recorder.Record, "process");
        var transcript = MarkdownTranscript.Create(recorder.Record);

        var skipped = junit.Descendants("testcase").Single(c => c.Attribute("name")!.Value.EndsWith("4.2 Same veth-2, same MAC, same address; busybox-3 reaches busybox-2", StringComparison.Ordinal));
        Assert.Equal("not run: the run ended after step 4.1 (--until)", skipped.Element("skipped")!.Attribute("message")!.Value);
        Assert.Equal("0", junit.Root!.Attribute("failures")!.Value);
        Assert.Contains("## Not run\n\nThe run ended after step 4.1 (--until).\n\n- 4.2 Same veth-2", transcript);
        Assert.Contains("**PASSED**", transcript);
        Assert.Contains("<h2>Not run</h2>\n<p>The run ended after step 4.1 (--until), as asked, so these steps never ran:</p>", HtmlReport.Create(recorder.Record));
    }

    [Fact]
    public async Task Until_the_last_step_is_a_whole_run()
    {
        using var state = new TempDirectory();
        var (engine, recorder) = Dry(state.Path, new LabOptions { Until = Article.Steps.Length - 1 });

        var result = await engine.RunAsync(Article, Ct);

        Assert.Null(result.StoppedEarly);
        Assert.Empty(recorder.Record.NotRun);
    }

    [Fact]
    public async Task A_pause_that_quits_ends_the_run_before_that_step_and_tears_down()
    {
        using var state = new TempDirectory();
        var paused = new List<string>();
        var (engine, recorder) = Dry(state.Path, new LabOptions
        {
            BeforeStep = (pause, _) =>
            {
                paused.Add($"{pause.Index + 1}/{pause.Count} {pause.Step.Number}");
                return Task.FromResult(pause.Step.Number == "1.2" ? StepGo.Quit : StepGo.Run);
            },
        });

        var result = await engine.RunAsync(Article, Ct);

        Assert.Equal(["1/25 0", "2/25 1.1", "3/25 1.2"], paused);
        Assert.Equal(ExitCodes.Passed, result.ExitCode());
        Assert.Equal("ended at the pause before step 1.2 (q)", result.StoppedEarly);
        Assert.Equal(2, recorder.Record.Steps.Length);
        Assert.NotEmpty(recorder.Record.TeardownCommands);
    }

    private static readonly Scenario TwoNamespaces = Scenarios.Load("""
        lab: two
        steps:
          - title: "1.1 one namespace"
            actions:
              - netns-add: n1
          - title: "1.2 another"
            actions:
              - netns-add: n2
        """);

    /// <summary>A run that runs nothing but is no plan: its journal is on disk (in a temporary state directory).</summary>
    private static (LabEngine Engine, RecordingRunner Runner, RunRecorder Recorder) Recorded(string state, LabOptions options)
    {
        var runner = new RecordingRunner(argv => argv.Contains("-br") ? RecordingRunner.Ok($"lo UNKNOWN 00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\n") : RecordingRunner.Ok());
        var recorder = new RunRecorder();
        var observer = new CompositeObserver(recorder);
        return (new LabEngine(new Telling(runner, observer.CommandRan), new FakeRuntime("process"), observer, options with { LabId = "5c0002", StateRoot = state }), runner, recorder);
    }

    /// <summary>Tells every command to the observers, as the CLI's runner does.</summary>
    private sealed class Telling(RecordingRunner inner, Action<CommandEvent> onCommand) : ICommandRunner
    {
        public bool IsDryRun => false;

        public async Task<CommandOutcome> RunAsync(IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
        {
            var outcome = await inner.RunAsync(argv, purpose, ct);
            onCommand(new CommandEvent(purpose, [.. argv], outcome));
            return outcome;
        }

        public Task<IBackgroundCommand> StartAsync(IReadOnlyList<string> argv, CommandPurpose purpose, BackgroundStart start, CancellationToken ct = default) =>
            inner.StartAsync(argv, purpose, start, ct);
    }

    [Fact]
    public async Task The_journal_says_which_step_a_live_run_is_at_with_its_lab_and_runtime()
    {
        using var state = new TempDirectory();
        RunInfo? seen = null;
        var (engine, _, _) = Recorded(state.Path, new LabOptions
        {
            BeforeStep = (pause, _) =>
            {
                if (pause.Index == 1) seen = Assert.Single(LabRuns.List(state.Path));
                return Task.FromResult(StepGo.Run);
            },
        });

        var result = await engine.RunAsync(TwoNamespaces, Ct);

        Assert.True(result.Teardown.Clean, string.Join("; ", result.Teardown.Leftovers));
        Assert.NotNull(seen);
        Assert.True(seen.Alive);
        Assert.Equal(("two", "process"), (seen.Lab, seen.Runtime));
        Assert.Equal(new JournalStep(1, 2, "1.1", "1.1 one namespace"), seen.Step);
        Assert.Equal(["host", "n1"], seen.Places.Select(p => p.Name));
        Assert.Empty(Directory.EnumerateFileSystemEntries(state.Path)); // torn down: the journal is gone
    }

    [Fact]
    public async Task A_pause_reads_every_place_the_lab_has_made_and_the_reports_do_not_count_it()
    {
        using var state = new TempDirectory();
        IReadOnlyList<PlaceState>? states = null;
        var (engine, runner, recorder) = Recorded(state.Path, new LabOptions
        {
            BeforeStep = async (pause, ct) =>
            {
                if (pause.Index == 1) states = await pause.Lab.ReadStateAsync(ct);
                return StepGo.Run;
            },
        });

        await engine.RunAsync(TwoNamespaces, Ct);

        Assert.NotNull(states);
        Assert.Equal(["host", "n1"], states.Select(s => s.Place)); // not n2: not made yet
        Assert.Equal(["links", "addresses", "routes", "neighbours"], states[1].Readings.Select(r => r.What));
        Assert.Equal("ip -n lr-5c0002-n1 -br link show", states[1].Readings[0].Command);
        Assert.Contains("lo UNKNOWN", states[1].Readings[0].Text);
        Assert.Contains(runner.Commands, c => c.Display == "ip -n lr-5c0002 neigh show" && c.Purpose == CommandPurpose.Check);
        var reported = recorder.Record.Steps.SelectMany(s => s.Commands).Concat(recorder.Record.SetupCommands).Select(c => c.Display).ToList();
        Assert.Contains("ip netns add lr-5c0002-n2", reported);
        Assert.DoesNotContain(reported, c => c.Contains("-br", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_plan_has_no_state_to_read()
    {
        using var state = new TempDirectory();
        var (engine, _) = Dry(state.Path, new LabOptions());
        await using var lab = await engine.StartAsync(TwoNamespaces, Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() => lab.ReadStateAsync(Ct));
    }
}
