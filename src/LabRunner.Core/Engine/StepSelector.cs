using System.Globalization;
using LabRunner.Loading;
using LabRunner.Model;

namespace LabRunner.Engine;

/// <summary>
/// A step as the command line names it (<c>--until</c>, <c>--from</c>, <c>graph --after-step</c>): the step's own
/// number as the lab writes it (<see cref="Step.Number"/>, the article's "3.4"), or its position from 1 (<c>17</c>, or
/// <c>#17</c>, which is always the position). A number the lab gives a step wins over a position: in the article "0" is
/// its first step. What names no step is a <see cref="UsageException"/> (exit 2) listing what does.
/// </summary>
public static class StepSelector
{
    /// <summary>The 0-based index of the step <paramref name="text"/> names; <paramref name="option"/> starts the messages.</summary>
    public static int Find(Scenario scenario, string text, string option)
    {
        var steps = scenario.Steps;
        var wanted = text.Trim();
        if (wanted.StartsWith('#'))
        {
            if (Position(wanted[1..], steps.Length) is { } at) return at;
            throw Unknown(scenario, option, text, $"a position is from #1 to #{steps.Length}", suggest: false);
        }
        var numbered = Enumerable.Range(0, steps.Length).Where(i => steps[i].Number == wanted.TrimEnd('.', ':')).ToList();
        if (numbered.Count == 1) return numbered[0];
        if (numbered.Count > 1)
            throw new UsageException($"{option}: {wanted} is the number of {numbered.Count} steps of lab {scenario.Name} (positions {string.Join(", ", numbered.Select(i => $"#{i + 1}"))})",
                $"name one by its position, e.g. {option} #{numbered[0] + 1}");
        if (wanted.Length > 0 && wanted.All(char.IsAsciiDigit))
        {
            if (Position(wanted, steps.Length) is { } at) return at;
            throw Unknown(scenario, option, text, $"lab {scenario.Name} has {steps.Length} steps, and none is numbered {wanted}");
        }
        throw Unknown(scenario, option, text, null);
    }

    /// <summary>How messages name a step: its own number, or its position ("#8").</summary>
    public static string Ref(Step step, int index) => step.Number ?? $"#{index + 1}";

    /// <summary>
    /// How the console heads a step, one number each: "Step 3.4 (19 of 25): ARP is correct", or for a step without a
    /// number of its own "Step 8 of 25: Section 1 is removed, except br-0".
    /// </summary>
    public static string Display(Step step, int index, int count)
    {
        if (step.Number is not { } number) return $"Step {index + 1} of {count}: {step.Title}";
        var heading = step.Heading;
        return $"Step {number} ({index + 1} of {count})" + (heading.Length > 0 ? $": {heading}" : "");
    }

    /// <summary>Every way the lab's steps can be named: their numbers, the unnumbered ones by position.</summary>
    public static string Names(Scenario scenario) =>
        string.Join(", ", scenario.Steps.Select((s, i) => Ref(s, i)));

    private static int? Position(string digits, int count) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= count ? n - 1 : null;

    private static UsageException Unknown(Scenario scenario, string option, string text, string? why, bool suggest = true)
    {
        var hint = suggest && text.Trim().Length > 0 && Nearest(scenario, text.Trim()) is { } near ? $" (did you mean {near}?)" : "";
        return new UsageException($"{option}: no step '{text}' in lab {scenario.Name}{hint}" + (why is null ? "" : $"; {why}"),
            $"its steps: {Names(scenario)}; or a position, #1 to #{scenario.Steps.Length}");
    }

    /// <summary>
    /// The number meant: "3.9" → the last step of section 3 before it or the nearest after it ("3.8"), by the last
    /// group; otherwise the nearest spelling ("3,4" → "3.4").
    /// </summary>
    private static string? Nearest(Scenario scenario, string text)
    {
        var numbers = scenario.Steps.Select(s => s.Number).OfType<string>().Distinct().ToList();
        var groups = text.Split('.');
        if (groups.Length > 1 && StepNumbers.IsNumber(text))
        {
            var section = string.Join('.', groups[..^1]) + ".";
            var last = Group(groups[^1]);
            var near = numbers.Where(n => n.StartsWith(section, StringComparison.Ordinal) && StepNumbers.IsNumber(n[section.Length..]) && !n[section.Length..].Contains('.'))
                .OrderBy(n => Math.Abs(Group(n[section.Length..]) - last)).ThenBy(n => n, StringComparer.Ordinal).FirstOrDefault();
            if (near is not null) return near;
        }
        return Suggest.Nearest(text, numbers);
    }

    private static long Group(string digits) =>
        long.TryParse(digits.Length > 18 ? digits[..18] : digits, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : long.MaxValue / 2;
}

/// <summary>
/// Which steps a run runs and how it shows them: <see cref="From"/> (0-based) is the first step shown in full and the
/// first a <c>--step</c> run pauses before (the steps before it run without pauses, one line each on the console);
/// <see cref="Until"/> (0-based, inclusive) the last step run, after which the lab is torn down as if it ended there.
/// </summary>
public sealed record StepSelection(int From, int? Until)
{
    public static readonly StepSelection All = new(0, null);

    /// <summary>The selection <c>--from FROM --until UNTIL</c> name (either may be null).</summary>
    public static StepSelection Of(Scenario scenario, string? from, string? until)
    {
        var first = from is null ? 0 : StepSelector.Find(scenario, from, "--from");
        int? last = until is null ? null : StepSelector.Find(scenario, until, "--until");
        if (last < first)
            throw new UsageException($"--from {from} is step {first + 1} and --until {until} step {last + 1} of lab {scenario.Name}: nothing would be shown",
                "--from names the first step to show in full, --until the last to run; the first cannot come after the last");
        return new StepSelection(first, last);
    }

    /// <summary>Steps before <see cref="From"/>: run without pausing, shown one line each.</summary>
    public bool Collapsed(int index) => index < From;

    /// <summary>Whether the run gets to this step (a failure may end it before).</summary>
    public bool Runs(int index) => Until is not { } last || index <= last;
}
