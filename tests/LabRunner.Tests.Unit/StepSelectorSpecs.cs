using LabRunner.Engine;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// A step as the command line names it (issue 15: --until, --from, graph --after-step): the lab's own number ("3.4"),
/// or its position (17, #17); what names no step is exit 2 listing the steps, with a "did you mean".
/// </summary>
public sealed class StepSelectorSpecs
{
    private static readonly Scenario Article = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));

    private static int IndexOf(string title) => Article.Steps.IndexOf(Article.Steps.Single(s => s.Title.StartsWith(title, StringComparison.Ordinal)));

    [Theory]
    [InlineData("3.4 ARP is correct", "3.4", "ARP is correct")]
    [InlineData("0 The article's host runs Docker", "0", "The article's host runs Docker")]
    [InlineData("12.1.2: deeper", "12.1.2", "deeper")]
    [InlineData("3.4. dotted", "3.4", "dotted")]
    [InlineData("3.4", "3.4", "")]
    [InlineData("Section 1 is removed, except br-0", null, "Section 1 is removed, except br-0")]
    [InlineData("v1.2 not a number", null, "v1.2 not a number")]
    [InlineData("3..4 two dots", null, "3..4 two dots")]
    [InlineData("-1 negative", null, "-1 negative")]
    public void A_step_s_own_number_is_the_number_its_title_starts_with(string title, string? number, string heading)
    {
        var step = new Step(title, null, [], [], SourceSpan.None);

        Assert.Equal(number, step.Number);
        Assert.Equal(heading, step.Heading);
    }

    [Fact]
    public void The_lab_s_own_number_names_a_step() =>
        Assert.Equal(IndexOf("3.4 "), StepSelector.Find(Article, "3.4", "--until"));

    [Fact]
    public void A_number_the_lab_gives_a_step_wins_over_a_position() =>
        Assert.Equal(0, StepSelector.Find(Article, "0", "--until")); // the article's first step is "0 The article's host runs Docker"

    [Theory]
    [InlineData("17", 16)]
    [InlineData("#17", 16)]
    [InlineData("#1", 0)]
    [InlineData("25", 24)]
    [InlineData(" 3.4 ", 18)]
    public void A_position_from_1_names_a_step_too(string text, int index) =>
        Assert.Equal(index, StepSelector.Find(Article, text, "--until"));

    [Fact]
    public void An_unnumbered_step_is_named_by_its_position()
    {
        var index = IndexOf("Section 1");

        Assert.Equal(index, StepSelector.Find(Article, $"#{index + 1}", "--from"));
        Assert.Contains($"#{index + 1}", StepSelector.Names(Article).Split(", "));
    }

    [Fact]
    public void An_unknown_number_is_refused_with_the_nearest_of_its_section_and_every_step_listed()
    {
        var e = Assert.Throws<UsageException>(() => StepSelector.Find(Article, "3.9", "--until"));

        Assert.Equal("--until: no step '3.9' in lab article (did you mean 3.8?)", e.Message);
        Assert.Equal("its steps: 0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, #8, 2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7, 3.1, 3.2, 3.3, 3.4, 3.5, 3.6, 3.7, 3.8, 4.1, 4.2; " +
                     "or a position, #1 to #25", e.Fix);
    }

    [Theory]
    [InlineData("3,4", "3.4")]
    [InlineData("2.30", "2.7")]
    [InlineData("1.0", "1.1")]
    public void A_near_miss_suggests_the_step_meant(string text, string meant) =>
        Assert.Contains($"(did you mean {meant}?)", Assert.Throws<UsageException>(() => StepSelector.Find(Article, text, "--from")).Message);

    [Theory]
    [InlineData("abc", "--after-step: no step 'abc' in lab article")]
    [InlineData("26", "--until: no step '26' in lab article (did you mean 2.6?); lab article has 25 steps, and none is numbered 26")]
    [InlineData("#0", "--until: no step '#0' in lab article; a position is from #1 to #25")]
    [InlineData("#26", "--until: no step '#26' in lab article; a position is from #1 to #25")]
    [InlineData("", "--until: no step '' in lab article")]
    public void What_names_no_step_is_refused(string text, string message)
    {
        var option = message[..message.IndexOf(':')];

        var e = Assert.Throws<UsageException>(() => StepSelector.Find(Article, text, option));

        Assert.Equal(message, e.Message);
        Assert.StartsWith("its steps: 0, 1.1,", e.Fix);
    }

    [Fact]
    public void A_number_two_steps_carry_is_refused_and_their_positions_named()
    {
        var lab = Scenarios.Load("""
            lab: twice
            steps:
              - title: "1 first"
              - title: "2 second"
              - title: "2 again"
            """);

        var e = Assert.Throws<UsageException>(() => StepSelector.Find(lab, "2", "--until"));

        Assert.Equal("--until: 2 is the number of 2 steps of lab twice (positions #2, #3)", e.Message);
        Assert.Equal(2, StepSelector.Find(lab, "#3", "--until"));
    }

    [Fact]
    public void The_console_heads_a_step_with_one_number_and_its_position_apart()
    {
        Assert.Equal("Step 3.4 (19 of 25): ARP is correct", StepSelector.Display(Article.Steps[18], 18, 25));
        Assert.Equal("Step 8 of 25: Section 1 is removed, except br-0", StepSelector.Display(Article.Steps[7], 7, 25));
        Assert.Equal("Step 3.4 (1 of 1)", StepSelector.Display(new Step("3.4", null, [], [], SourceSpan.None), 0, 1));
    }

    [Fact]
    public void From_and_until_select_what_runs_and_what_is_collapsed()
    {
        var selection = StepSelection.Of(Article, "2.1", "3.4");

        Assert.Equal(IndexOf("2.1 "), selection.From);
        Assert.Equal(IndexOf("3.4 "), selection.Until);
        Assert.True(selection.Collapsed(selection.From - 1));
        Assert.False(selection.Collapsed(selection.From));
        Assert.True(selection.Runs(selection.Until!.Value));
        Assert.False(selection.Runs(selection.Until.Value + 1));
        Assert.Equal(StepSelection.All, StepSelection.Of(Article, null, null));
    }

    [Fact]
    public void From_after_until_is_refused()
    {
        var e = Assert.Throws<UsageException>(() => StepSelection.Of(Article, "3.4", "2.1"));

        Assert.StartsWith("--from 3.4 is step 19 and --until 2.1 step 9 of lab article", e.Message);
    }
}
