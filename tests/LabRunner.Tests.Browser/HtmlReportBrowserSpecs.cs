using System.Globalization;
using LabRunner.Tests.Shared;
using Microsoft.Playwright;

namespace LabRunner.Tests.Browser;

/// <summary>
/// The HTML report (`labrunner run --report FILE.html`, issue 15) as a person sees it in Chromium: the sample run's
/// page (<see cref="SampleRun"/>: a step that held with its topology drawn by Graphviz, a failed ping with its why-lines,
/// a step not run), opened from its file. What is asserted is what shows on the screen: the step titles, the failed
/// check's why-line, a drawing of a real size, nothing loaded from anywhere, and a page that is dark when the reader's
/// system is. Screenshots go to the results directory (browser/*.png).
/// </summary>
public sealed class HtmlReportBrowserSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_step_titles_the_failed_checks_why_line_and_the_drawing_are_what_a_person_sees()
    {
        using var scratch = new Scratch();
        var report = await Tools.WriteSampleReportAsync(scratch.Path, Ct);
        await using var browser = await ReportBrowser.LaunchAsync();
        await using var opened = await browser.OpenAsync(report);
        var page = opened.Page;

        var scenario = SampleRun.Scenario();
        foreach (var (step, i) in scenario.Steps.Take(2).Select((s, i) => (s, i + 1)))
        {
            var heading = page.Locator($"#step-{i} h2");
            Assert.True(await heading.IsVisibleAsync(), $"step {i}'s title is not visible");
            Assert.Equal((i == 1 ? "✓ " : "✗ ") + step.Title, (await heading.InnerTextAsync()).Trim());
        }
        // The title with a <script> tag in it reads as written, and nothing ran.
        Assert.Contains("<script>alert('x')</script>", await page.Locator("#step-2 h2").InnerTextAsync());
        Assert.Equal("bridge <lab> & friends", (await page.Locator("h1").InnerTextAsync()).Trim());
        Assert.StartsWith("bridge <lab> & friends — FAILED", await page.TitleAsync());
        Assert.True(await page.Locator("#not-run").GetByText(scenario.Steps[2].Title).IsVisibleAsync(), "the step not run is not listed");

        foreach (var why in SampleRun.Why)
        {
            var line = page.Locator("#step-2 .why li").Filter(new LocatorFilterOptions { HasText = why });
            Assert.True(await line.IsVisibleAsync(), $"the why-line is not visible: {why}");
            var box = await line.BoundingBoxAsync();
            Assert.True(box is { Width: > 100, Height: > 10 }, $"the why-line has no room: {box?.Width}x{box?.Height}");
        }

        var drawing = page.Locator("#step-1 figure.topology svg");
        Assert.Equal(1, await drawing.CountAsync());
        var size = await drawing.BoundingBoxAsync();
        Assert.True(size is { Width: > 200, Height: > 100 }, $"the drawing's rendered size is {size?.Width}x{size?.Height}");
        Assert.True(await drawing.GetByText("172.16.100.101/24").IsVisibleAsync(), "the address a command gave veth-2 is not in the drawing");
        Assert.True(await page.Locator("#step-2 .no-picture").IsVisibleAsync(), "step 2 does not say why it has no drawing");

        Assert.Equal([new Uri(report).AbsoluteUri], opened.Requests); // the page itself, nothing else
        Assert.Empty(opened.ConsoleProblems); // e.g. a Content-Security-Policy violation
        var screenshot = await opened.ScreenshotAsync("sample-report-light");
        Assert.True(new FileInfo(screenshot).Length > 10_000);
    }

    [Fact]
    public async Task The_page_is_dark_when_the_readers_system_is_and_its_text_keeps_its_contrast()
    {
        using var scratch = new Scratch();
        var report = await Tools.WriteSampleReportAsync(scratch.Path, Ct);
        await using var browser = await ReportBrowser.LaunchAsync();

        await using var light = await browser.OpenAsync(report, ColorScheme.Light);
        await using var dark = await browser.OpenAsync(report, ColorScheme.Dark);

        var (lightBg, lightFg) = await ColoursAsync(light.Page);
        var (darkBg, darkFg) = await ColoursAsync(dark.Page);
        Assert.True(Luminance(lightBg) > 0.9 && Luminance(lightFg) < 0.05, $"light: {lightFg} on {lightBg}");
        Assert.True(Luminance(darkBg) < 0.05 && Luminance(darkFg) > 0.7, $"dark: {darkFg} on {darkBg}");
        // The drawing follows: its labels take the page's text colour.
        var label = await dark.Page.Locator("#step-1 figure.topology svg text").First.EvaluateAsync<string>("e => getComputedStyle(e).fill");
        Assert.True(Luminance(label) > 0.7, $"the drawing's text is {label} on a dark page");
        await dark.ScreenshotAsync("sample-report-dark");
    }

    private static async Task<(string Background, string Text)> ColoursAsync(IPage page) =>
        (await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor"), await page.EvaluateAsync<string>("getComputedStyle(document.body).color"));

    /// <summary>Relative luminance (WCAG) of a CSS rgb()/rgba() colour.</summary>
    private static double Luminance(string css)
    {
        var parts = css[(css.IndexOf('(') + 1)..css.IndexOf(')')].Split(',', ' ', '/').Where(p => p.Length > 0).Take(3)
            .Select(p => double.Parse(p, CultureInfo.InvariantCulture) / 255).Select(c => c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4)).ToArray();
        return 0.2126 * parts[0] + 0.7152 * parts[1] + 0.0722 * parts[2];
    }
}
