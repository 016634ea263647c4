using LabRunner.Cli.Output;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Runtimes;
using LabRunner.Tests.Unit.Infrastructure;
using Spectre.Console;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The pause before a step of a --step run (issue 15), with a fake input: Enter runs the step, c runs the rest without
/// pausing, s shows every place's state and asks again, q quits; the end of the input runs on; a Ctrl-C ends the wait.
/// </summary>
public sealed class PausePromptSpecs : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly TempDirectory _state = new();
    private readonly StringWriter _output = new();
    private readonly List<string> _stateReads = [];
    private LiveLab _lab = null!;

    private static readonly Scenario Article = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));

    public async ValueTask InitializeAsync()
    {
        var runner = new DryRunCommandRunner();
        _lab = await new LabEngine(runner, new ProcessRuntime(runner), new CompositeObserver(), new LabOptions { LabId = "9a0001", StateRoot = _state.Path })
            .StartAsync(Article, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _lab.DisposeAsync();
        _state.Dispose();
    }

    private PausePrompt Prompt(string input, StepSelection? selection = null) =>
        Prompt(new StringReader(input), selection);

    private PausePrompt Prompt(TextReader input, StepSelection? selection = null)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(_output) });
        console.Profile.Width = 1000; // as when redirected (the CLI's setting): no wrapping
        return new PausePrompt(console, input, selection, (pause, _) =>
        {
            _stateReads.Add(pause.Step.Number!);
            return Task.FromResult<IReadOnlyList<PlaceState>>(
            [
                new PlaceState("host", PlaceKind.Host,
                [
                    new PlaceReading("links", "ip -n lr-9a0001 -br link show", true, "lo  UNKNOWN  00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\nens3@if2  UP  aa:bb:cc:dd:ee:ff <BROADCAST,UP>"),
                    new PlaceReading("neighbours", "ip -n lr-9a0001 neigh show", true, ""),
                ]),
                new PlaceState("busybox-1", PlaceKind.Container,
                    [new PlaceReading("routes", "nsenter -t 4242 -n ip route show", false, "nsenter: cannot open /proc/4242/ns/net")]),
            ]);
        });
    }

    private StepPause Before(string number)
    {
        var index = StepSelector.Find(Article, number, "test");
        return new StepPause(_lab, Article.Steps[index], index, Article.Steps.Length);
    }

    private string Output => _output.ToString();

    private int Prompts => Output.Split("press Enter").Length - 1;

    [Fact]
    public async Task Enter_runs_the_next_step_and_the_prompt_names_it_with_every_answer()
    {
        var prompt = Prompt("\n");

        Assert.Equal(StepGo.Run, await prompt.BeforeStepAsync(Before("3.4"), Ct));

        Assert.Contains("press Enter for Step 3.4 (19 of 25): ARP is correct · c: continue without pausing · s: show the state of every place · q: tear down and quit", Output);
        Assert.Equal(1, Prompts);
    }

    [Fact]
    public async Task C_runs_this_step_and_every_later_one_without_pausing()
    {
        var prompt = Prompt("c\n");

        Assert.Equal(StepGo.Run, await prompt.BeforeStepAsync(Before("3.4"), Ct));
        Assert.Equal(StepGo.Run, await prompt.BeforeStepAsync(Before("3.5"), Ct));
        Assert.Equal(StepGo.Run, await prompt.BeforeStepAsync(Before("3.6"), Ct));

        Assert.Equal(1, Prompts);
    }

    [Fact]
    public async Task Q_quits()
    {
        Assert.Equal(StepGo.Quit, await Prompt(" Q \n").BeforeStepAsync(Before("3.4"), Ct));
        Assert.Contains("quitting: tearing the lab down", Output);
    }

    [Fact]
    public async Task S_shows_the_state_of_every_place_then_asks_again()
    {
        var prompt = Prompt("s\n\n");

        Assert.Equal(StepGo.Run, await prompt.BeforeStepAsync(Before("3.4"), Ct));

        Assert.Equal(["3.4"], _stateReads);
        Assert.Equal(2, Prompts);
        Assert.Contains("the lab now (lab 9a0001, before 3.4)", Output);
        Assert.Contains("  host (host)\n    links:\n      lo  UNKNOWN  00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\n      ens3@if2  UP", Output);
        Assert.Contains("    neighbours: (none)", Output);
        Assert.Contains("  busybox-1 (container)\n    routes: could not be read: nsenter: cannot open /proc/4242/ns/net ($ nsenter -t 4242 -n ip route show)", Output);
    }

    [Fact]
    public async Task Anything_else_is_said_to_be_no_answer_and_asked_again()
    {
        Assert.Equal(StepGo.Run, await Prompt("next\n\n").BeforeStepAsync(Before("3.4"), Ct));

        Assert.Contains("'next' is not an answer: Enter, c, s or q (then Enter)", Output);
        Assert.Equal(2, Prompts);
    }

    [Fact]
    public async Task The_end_of_the_input_runs_on_without_pausing()
    {
        var prompt = Prompt("");

        Assert.Equal(StepGo.Run, await prompt.BeforeStepAsync(Before("3.4"), Ct));
        Assert.Equal(StepGo.Run, await prompt.BeforeStepAsync(Before("3.5"), Ct));

        Assert.Contains("no more input: continuing without pausing", Output);
        Assert.Equal(1, Prompts);
    }

    [Fact]
    public async Task Steps_before_from_run_without_a_pause()
    {
        var prompt = Prompt("\n", StepSelection.Of(Article, "3.4", null));

        Assert.Equal(StepGo.Run, await prompt.BeforeStepAsync(Before("3.3"), Ct));
        Assert.Equal(0, Prompts);
        Assert.Equal(StepGo.Run, await prompt.BeforeStepAsync(Before("3.4"), Ct));
        Assert.Equal(1, Prompts);
    }

    [Fact]
    public async Task A_ctrl_c_ends_the_wait_at_once()
    {
        using var input = new NeverAnswering();
        using var ctrlC = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var waiting = Prompt(input).BeforeStepAsync(Before("3.4"), ctrlC.Token);

        await Task.Delay(50, Ct);
        Assert.False(waiting.IsCompleted);
        ctrlC.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    /// <summary>A terminal nobody types on: a read blocks until the test ends.</summary>
    private sealed class NeverAnswering : TextReader
    {
        private readonly ManualResetEventSlim _closed = new();

        public override string? ReadLine()
        {
            _closed.Wait();
            return null;
        }

        protected override void Dispose(bool disposing)
        {
            _closed.Set();
            base.Dispose(disposing);
        }
    }
}
