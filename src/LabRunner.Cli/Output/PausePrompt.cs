using LabRunner.Engine;
using Spectre.Console;

namespace LabRunner.Cli.Output;

/// <summary>
/// The pause before each step of a <c>--step</c> run (a workshop), from <see cref="StepSelection.From"/> on. A line is
/// read: Enter runs the step; <c>c</c> runs it and the rest without pausing; <c>s</c> shows the state of every place of
/// the lab (links, addresses, routes, neighbours) and asks again; <c>q</c> ends the run here: torn down, as if the lab
/// ended after the steps run so far. The end of the input (nobody left to answer) is <c>c</c>. The read runs on a
/// thread of its own, so a Ctrl-C (<paramref name="ct"/>) ends the wait at once.
/// </summary>
public sealed class PausePrompt(IAnsiConsole console, TextReader input, StepSelection? selection = null,
    Func<StepPause, CancellationToken, Task<IReadOnlyList<PlaceState>>>? readState = null)
{
    private readonly StepSelection _selection = selection ?? StepSelection.All;
    private readonly Func<StepPause, CancellationToken, Task<IReadOnlyList<PlaceState>>> _readState = readState ?? ((p, ct) => p.Lab.ReadStateAsync(ct));
    private bool _pausing = true;

    /// <summary>What the prompt says each time; "press Enter" once, which tests and scripts wait for.</summary>
    public static string Prompt(string next) =>
        $"press Enter for {next} · c: continue without pausing · s: show the state of every place · q: tear down and quit";

    public async Task<StepGo> BeforeStepAsync(StepPause pause, CancellationToken ct)
    {
        if (!_pausing || _selection.Collapsed(pause.Index)) return StepGo.Run;
        var next = StepSelector.Display(pause.Step, pause.Index, pause.Count);
        while (true)
        {
            console.MarkupLine($"[grey]{Markup.Escape(Prompt(next))}[/]");
            // Console.In's ReadLineAsync blocks its caller and ignores the token: read on a thread of its own, and stop
            // waiting at Ctrl-C (the read left pending ends with the process).
            var line = await Task.Run(input.ReadLine, CancellationToken.None).WaitAsync(ct);
            switch (line?.Trim().ToLowerInvariant())
            {
                case null:
                    console.MarkupLine("[grey]no more input: continuing without pausing[/]");
                    _pausing = false;
                    return StepGo.Run;
                case "":
                    return StepGo.Run;
                case "c":
                    _pausing = false;
                    return StepGo.Run;
                case "q":
                    console.MarkupLine("[yellow]quitting: tearing the lab down[/]");
                    return StepGo.Quit;
                case "s":
                    await ShowStateAsync(pause, ct);
                    break;
                default:
                    console.MarkupLine($"[yellow]'{Markup.Escape(line.Trim())}' is not an answer: Enter, c, s or q (then Enter)[/]");
                    break;
            }
        }
    }

    private async Task ShowStateAsync(StepPause pause, CancellationToken ct)
    {
        var places = await _readState(pause, ct);
        console.MarkupLine($"[bold]the lab now[/] [grey](lab {Markup.Escape(pause.Lab.Session.LabId)}, before {Markup.Escape(StepSelector.Ref(pause.Step, pause.Index))})[/]");
        foreach (var place in places)
        {
            console.MarkupLine($"  [bold]{Markup.Escape(place.Place)}[/] [grey]({place.Kind.ToString().ToLowerInvariant()})[/]");
            foreach (var reading in place.Readings)
            {
                if (!reading.Ok)
                {
                    console.MarkupLine($"    {reading.What}: [yellow]could not be read: {Markup.Escape(reading.Text)}[/] [grey]($ {Markup.Escape(reading.Command)})[/]");
                    continue;
                }
                var lines = reading.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                console.MarkupLine($"    {reading.What}:{(lines.Length == 0 ? " [grey](none)[/]" : "")}");
                foreach (var l in lines) console.MarkupLine($"      {Markup.Escape(l.TrimEnd())}");
            }
        }
    }
}
