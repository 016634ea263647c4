using LabRunner.Authoring;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;
using LabRunner.Xunit;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The engine's live-lab API (what test fixtures use) does what RunAsync does, step by step; and the xunit
/// package's pieces that need no root: step rows, skip reasons, failure messages.
/// </summary>
public sealed class LiveLabSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (LabEngine Engine, List<string> Commands) DryEngine(string stateRoot)
    {
        var commands = new List<string>();
        void Collect(CommandEvent e) => commands.Add($"{e.Purpose} {e.Display}");
        var runner = new DryRunCommandRunner(Collect);
        var engine = new LabEngine(runner, new ProcessRuntime(runner, Collect), new NoObserver(),
            new LabOptions { LabId = Plan.LabId, StateRoot = stateRoot });
        return (engine, commands);
    }

    private sealed class NoObserver : LabObserver;

    [Theory]
    [MemberData(nameof(Repo.ArticleScenarioNames), MemberType = typeof(Repo))]
    public async Task A_live_lab_run_step_by_step_then_torn_down_runs_exactly_the_commands_of_RunAsync(string fileName)
    {
        using var state = new TempDirectory();
        var scenario = ScenarioLoader.LoadFile(Repo.Article(fileName));
        var (whole, wholeCommands) = DryEngine(state.Path);
        var (live, liveCommands) = DryEngine(state.Path);

        var result = await whole.RunAsync(scenario, Ct);
        var lab = await live.StartAsync(scenario, Ct);
        foreach (var step in scenario.Steps) Assert.True((await lab.RunStepAsync(step, Ct)).Passed);
        var liveResult = await lab.TearDownAsync();

        Assert.Equal(wholeCommands, liveCommands);
        Assert.Equal(result.Outcome, liveResult.Outcome);
        Assert.Equal(result.Teardown.Undone, liveResult.Teardown.Undone);
        Assert.Same(liveResult, await lab.TearDownAsync()); // idempotent
        Assert.Empty(Directory.EnumerateFileSystemEntries(state.Path)); // a dry run writes no journal
    }

    [Fact]
    public async Task A_live_lab_runs_steps_built_against_its_scenario_and_records_every_check()
    {
        using var state = new TempDirectory();
        var scenario = ScenarioLoader.LoadFile(Repo.Article("01-veth-bridge.yaml"));
        var (engine, commands) = DryEngine(state.Path);
        await using var lab = await engine.StartAsync(scenario, Ct);

        Assert.Null(await lab.RunStepsAsync(Ct));
        var extra = Lab.From(scenario).Step("more", s => s.Bridge("br-1").In("n1").Expect.Link("br-1").In("n1")).Build().Steps[^1];
        var outcome = await lab.RunStepAsync(extra, Ct);

        Assert.True(outcome.Passed);
        Assert.Single(outcome.Checks);
        Assert.Equal(scenario.Steps.Length + 1, lab.Outcomes.Count);
        Assert.Contains($"Action ip -n lr-{Plan.LabId}-n1 link add name br-1 type bridge", commands);
        await lab.DisposeAsync();
        Assert.Equal($"Teardown ip netns delete lr-{Plan.LabId}", commands[^1]);
    }

    [Fact]
    public async Task ScenarioSteps_gives_one_row_per_step_named_after_it()
    {
        var rows = await new ScenarioStepsAttribute(typeof(ArticleYaml)).GetData(typeof(LiveLabSpecs).GetMethod(nameof(ScenarioSteps_gives_one_row_per_step_named_after_it))!, new());

        var scenario = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));
        Assert.Equal(scenario.Steps.Length, rows.Count);
        Assert.Equal("article 01/25: 0 The article's host runs Docker", rows.First().TestDisplayName);
        Assert.Equal("article 25/25: " + scenario.Steps[^1].Title, rows.Last().TestDisplayName);
        Assert.Equal([24], rows.Last().GetData());
    }

    private sealed class ArticleYaml() : ScenarioFileFixture(Repo.Article("article.yaml"));

    [Fact]
    public void A_missing_tool_or_runtime_is_a_skip_reason_that_names_it()
    {
        Assert.Contains("missing tools this test needs: no-such-tool-xyz", LabRequirements.Problem(["no-such-tool-xyz"]));
        Assert.Contains("container runtime 'nope' is not available in this LabRunner build (known: process, containerd, docker)", LabRequirements.Problem(runtime: "nope"));
        Assert.Contains("no-such-tool-xyz", new LabFactAttribute { Tools = ["no-such-tool-xyz"] }.Skip);
        Assert.Contains("'nope'", new LabTheoryAttribute { Runtime = "nope" }.Skip);
    }

    [Fact]
    public void A_failed_step_reads_as_expected_vs_observed_with_where_the_expectation_was_written()
    {
        var ping = new PingExpectation(Place.Container("busybox-2"), "172.16.100.101", true, 1) { Span = new("lab.cs", 12, 1) };
        var step = new Step("3.2 busybox-2 cannot reach busybox-1", null, [], [ping], new("lab.cs", 10, 1));
        var result = new ExpectationResult(false, ping.Describe(), "1 sent, 0 received (100% packet loss)", 3, TimeSpan.FromSeconds(2));
        var outcome = new StepOutcome(step, false, ["lab.cs:12:1: expected ...; observed ..."], [new CheckOutcome(ping, result)]);

        var message = LabAssertionException.StepFailed(outcome, null).Message;

        Assert.Equal("""
            step "3.2 busybox-2 cannot reach busybox-1" failed (lab.cs:10:1)
              at lab.cs:12:1
              expected: ping from busybox-2 to 172.16.100.101 succeeds
              observed: 1 sent, 0 received (100% packet loss) (after 3 tries in 2.0s)
            """.ReplaceLineEndings(), message.ReplaceLineEndings());
        Assert.IsAssignableFrom<global::Xunit.Sdk.IAssertionException>(LabAssertionException.StepFailed(outcome, null));
    }

    [Fact]
    public void An_action_that_failed_is_shown_as_the_engine_words_it()
    {
        var step = new Step("s", null, [], [], new("lab.cs", 3, 1));
        var outcome = new StepOutcome(step, false, ["lab.cs:4:1: veth-add failed: RTNETLINK answers: File exists"], []);

        Assert.EndsWith("  lab.cs:4:1: veth-add failed: RTNETLINK answers: File exists", LabAssertionException.StepFailed(outcome, null).Message);
    }
}
