using System.Globalization;
using System.Text;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Model;

namespace LabRunner.Reporting;

/// <summary>The drawing of a step's topology for the HTML report: an inline &lt;svg&gt; element, or why there is none.</summary>
public sealed record StepPicture(string? Svg, string? Note)
{
    public static StepPicture Drawn(string svg) => new(svg, null);

    public static StepPicture Missing(string note) => new(null, note);
}

/// <summary>
/// A run as one self-contained HTML page (`labrunner run --report FILE.html`), for a workshop's projector or a bug
/// report: the lab's title and verdict, then each step as it ran — its title and text, the commands it really ran with
/// their exit codes, each check with ✓ or ✗, a failure's expected, observed and why-lines, a capture's packet counts —
/// with the topology the kernel held after it (<see cref="TopologyObservation"/>, drawn by Graphviz: <see cref="DrawAsync"/>),
/// the steps not run, and the teardown. Nothing is fetched: the CSS and the SVG are inline, there is no script, no font
/// and no image from elsewhere, and the page's Content-Security-Policy forbids any load. Every text from the run is
/// HTML-escaped. Light or dark as the reader's system prefers; large type, high contrast, marks as well as colours.
/// </summary>
public static class HtmlReport
{
    /// <summary>The page. <paramref name="pictures"/> holds each step's drawing by step number (<see cref="DrawAsync"/>); a step without one has no figure.</summary>
    /// <param name="runtime">The container runtime the lab ran on, shown with the run's facts.</param>
    public static string Create(RunRecord run, IReadOnlyDictionary<int, StepPicture>? pictures = null, string? runtime = null)
    {
        pictures ??= new Dictionary<int, StepPicture>();
        var s = run.Scenario;
        var result = run.Result;
        var checks = run.Steps.SelectMany(x => x.Checks).ToList();
        var notRun = run.NotRun.ToList();
        var verdict = MarkdownTranscript.Verdict(result);
        var html = new StringBuilder(16 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<meta name=\"color-scheme\" content=\"light dark\">\n")
            // Nothing may be loaded from anywhere: the page is whole as written.
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n")
            .Append("<meta name=\"generator\" content=\"LabRunner\">\n")
            .Append("<title>").Append(E(s.Name)).Append(" — ").Append(E(verdict)).Append(" — LabRunner</title>\n")
            .Append("<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n");

        html.Append("<header>\n<p class=\"kicker\">LabRunner report</p>\n<h1>").Append(E(s.Name)).Append("</h1>\n");
        if (!string.IsNullOrWhiteSpace(s.Description)) Paragraphs(html, s.Description, "description");
        html.Append("<p class=\"verdict ").Append(VerdictClass(result)).Append("\">").Append(Mark(result?.Outcome == LabOutcome.Passed && result.Teardown.Clean))
            .Append(' ').Append(E(verdict)).Append("</p>\n<dl class=\"facts\">\n");
        Fact(html, "checks held", $"{checks.Count(c => c.Result.Held)} of {checks.Count}");
        Fact(html, "steps run", $"{run.Steps.Length} of {s.Steps.Length}" + (notRun.Count > 0 ? $" ({notRun.Count} not run)" : ""));
        Fact(html, "exit code", result?.ExitCode().ToString(CultureInfo.InvariantCulture) ?? "?");
        Fact(html, "lab", run.LabId + (run.Sandbox ? $", sandboxed in the network namespace lr-{run.LabId}" : ", on the host"));
        if (runtime is not null) Fact(html, "runtime", runtime);
        Fact(html, "started", run.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC");
        if (result is not null) Fact(html, "took", Seconds(result.Elapsed));
        Fact(html, "lab file", s.Span.File);
        html.Append("</dl>\n</header>\n");

        html.Append("<nav aria-label=\"steps\">\n<ol class=\"toc\">\n");
        foreach (var step in run.Steps)
            html.Append("<li class=\"").Append(step.Passed ? "passed" : "failed").Append("\"><a href=\"#step-").Append(step.Number.ToString(CultureInfo.InvariantCulture))
                .Append("\"><span class=\"mark\">").Append(Mark(step.Passed)).Append("</span> ").Append(E(step.Step.Title)).Append("</a></li>\n");
        foreach (var step in notRun) html.Append("<li class=\"not-run\"><span class=\"mark\">–</span> ").Append(E(step.Title)).Append("</li>\n");
        html.Append("</ol>\n</nav>\n<main>\n");

        if (run.SetupCommands.Length > 0)
        {
            html.Append("<section class=\"setup\">\n<h2>Sandbox</h2>\n");
            Commands(html, run.SetupCommands, "commands that built the lab's host");
            html.Append("</section>\n");
        }
        foreach (var step in run.Steps) Step(html, step, s.Steps.Length, pictures.GetValueOrDefault(step.Number), result);
        if (notRun.Count > 0)
        {
            var why = result?.StoppedEarly is { } stopped ? $"The run {E(stopped)}, as asked" : "An earlier step failed or the run was stopped";
            html.Append("<section class=\"not-run\" id=\"not-run\">\n<h2>Not run</h2>\n<p>").Append(why).Append(", so these steps never ran:</p>\n<ol start=\"")
                .Append((run.Steps.Length + 1).ToString(CultureInfo.InvariantCulture)).Append("\">\n");
            foreach (var step in notRun) html.Append("<li>").Append(E(step.Title)).Append("</li>\n");
            html.Append("</ol>\n</section>\n");
        }
        Teardown(html, run);
        html.Append("</main>\n<footer>Written by <code>labrunner</code> from the run's own record; every command shown ran on this lab's host.</footer>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>
    /// Each observed step's topology drawn as SVG by Graphviz (the same drawing once per distinct topology). Without
    /// Graphviz every step says so instead, with the fix; a topology that was not observed says why.
    /// </summary>
    /// <param name="searchPath">Where to look for dot (default: $PATH).</param>
    public static async Task<IReadOnlyDictionary<int, StepPicture>> DrawAsync(RunRecord run, ICommandRunner runner, string? searchPath = null, CancellationToken ct = default)
    {
        var pictures = new Dictionary<int, StepPicture>();
        var drawn = new Dictionary<string, StepPicture>(StringComparer.Ordinal);
        var haveDot = Graphviz.Find(searchPath) is not null;
        foreach (var step in run.Steps)
        {
            if (step.Topology is not { } observation) continue;
            if (observation.Topology is not { } topology)
            {
                pictures[step.Number] = StepPicture.Missing($"The topology after this step was not observed: {observation.Missing}");
                continue;
            }
            if (!haveDot)
            {
                pictures[step.Number] = StepPicture.Missing($"The topology is not drawn: Graphviz is not installed where this report was written ({Graphviz.Fix}).");
                continue;
            }
            var dot = topology.ToLabTopology().ToDot();
            if (!drawn.TryGetValue(dot, out var picture))
            {
                try
                {
                    picture = StepPicture.Drawn(Graphviz.Inline(await Graphviz.RenderSvgAsync(dot, runner, searchPath, ct)));
                }
                catch (Exception e) when (e is InvalidOperationException or EnvironmentProblemException or IOException)
                {
                    picture = StepPicture.Missing($"The topology could not be drawn: {e.Message}");
                }
                drawn[dot] = picture;
            }
            pictures[step.Number] = picture;
        }
        return pictures;
    }

    private static void Step(StringBuilder html, RecordedStep step, int count, StepPicture? picture, LabResult? result)
    {
        var number = step.Number.ToString(CultureInfo.InvariantCulture);
        html.Append("<section class=\"step ").Append(step.Passed ? "passed" : "failed").Append("\" id=\"step-").Append(number).Append("\">\n")
            .Append("<p class=\"step-number\">Step ").Append(number).Append(" of ").Append(count.ToString(CultureInfo.InvariantCulture))
            .Append(" · ").Append(step.Passed ? "passed" : "failed").Append(" · ").Append(Seconds(step.Elapsed)).Append("</p>\n")
            .Append("<h2><span class=\"mark\">").Append(Mark(step.Passed)).Append("</span> ").Append(E(step.Step.Title)).Append("</h2>\n");
        if (!string.IsNullOrWhiteSpace(step.Step.Text)) Paragraphs(html, step.Step.Text, "text");

        var shown = step.Commands.Where(c => c.Purpose.ShownByDefault()).ToList();
        var hidden = step.Commands.Where(c => !c.Purpose.ShownByDefault()).ToList();
        if (shown.Count > 0)
        {
            html.Append("<h3>Commands</h3>\n");
            Commands(html, shown, "the commands this step ran");
        }
        if (hidden.Count > 0)
        {
            html.Append("<details class=\"checks-run\"><summary>").Append(hidden.Count.ToString(CultureInfo.InvariantCulture))
                .Append(hidden.Count == 1 ? " command" : " commands").Append(" run to check and observe</summary>\n");
            Commands(html, hidden, "the commands that checked this step");
            html.Append("</details>\n");
        }

        if (step.NotableActions.Length > 0 || step.Checks.Length > 0)
        {
            html.Append("<h3>Checks</h3>\n<ul class=\"checks\">\n");
            foreach (var a in step.NotableActions)
            {
                if (!a.Failed)
                {
                    html.Append("<li class=\"held\"><span class=\"mark\">✓</span> <code>").Append(E(a.Action.Keyword)).Append("</code> failed as expected: <span class=\"observed\">")
                        .Append(E(a.Outcome.Observed)).Append("</span></li>\n");
                    continue;
                }
                html.Append("<li class=\"failed\"><span class=\"mark\">✗</span> <code>").Append(E(a.Action.Keyword)).Append("</code> ").Append(E(ActionFailure(a)))
                    .Append(" <span class=\"at\">").Append(E(a.Action.Span.ToString())).Append("</span>");
                if (a.Action.ExpectedError is { } expected)
                    html.Append("\n<div class=\"expected\">expected to fail with: ").Append(E(expected)).Append("</div>");
                html.Append("\n<div class=\"observed\">observed: ").Append(E(a.Outcome.Observed)).Append("</div></li>\n");
            }
            foreach (var check in step.Checks) Check(html, check);
            html.Append("</ul>\n");
        }
        if (!step.Passed && !step.ActionFailures.Any() && step.Checks.All(c => c.Result.Held))
            html.Append("<p class=\"cut-short\">").Append(result?.Outcome == LabOutcome.Interrupted
                ? "This step was cut short: the run was interrupted, then torn down."
                : "This step did not finish: the run stopped here, then was torn down.").Append("</p>\n");

        if (picture is not null)
        {
            html.Append("<figure class=\"topology\">\n");
            if (picture.Svg is { } svg)
                html.Append(svg).Append('\n').Append("<figcaption>The topology after step ").Append(number)
                    .Append(", as the kernel held it (<code>ip -j -d addr show</code> in each namespace)</figcaption>\n");
            else html.Append("<p class=\"no-picture\">").Append(E(picture.Note)).Append("</p>\n");
            html.Append("</figure>\n");
        }
        html.Append("</section>\n");
    }

    private static void Why(StringBuilder html, ExpectationResult r)
    {
        if (r.Diagnosis.Count == 0) return;
        html.Append("<ul class=\"why\">\n");
        foreach (var why in r.Diagnosis) html.Append("<li><span class=\"why-label\">why:</span> ").Append(E(why)).Append("</li>\n");
        html.Append("</ul>\n");
    }

    private static void Check(StringBuilder html, CheckOutcome check)
    {
        var r = check.Result;
        // A capture's observation is a list: the ping, then each link's packet counts.
        var capture = check.Expectation is CaptureExpectation;
        if (r.Held)
        {
            html.Append("<li class=\"held\"><span class=\"mark\">✓</span> ").Append(E(r.Expected));
            if (capture) Counts(html, r.Observed);
            else html.Append(" <span class=\"observed\">— ").Append(E(r.Observed)).Append("</span>");
            Why(html, r); // an expected failure explained (a why: asked for)
            html.Append("</li>\n");
            return;
        }
        html.Append("<li class=\"failed\"><span class=\"mark\">✗</span> <strong>").Append(E(r.Expected)).Append("</strong> <span class=\"at\">")
            .Append(E(check.Expectation.Span.ToString())).Append("</span>\n<div class=\"observed\">observed: ");
        if (capture) Counts(html, r.Observed);
        else html.Append(E(r.Observed));
        html.Append(" <span class=\"tries\">(after ").Append(r.Attempts.ToString(CultureInfo.InvariantCulture)).Append(r.Attempts == 1 ? " try" : " tries")
            .Append(" in ").Append(Seconds(r.Elapsed)).Append(")</span></div>\n");
        Why(html, r);
        html.Append("</li>\n");
    }

    private static void Counts(StringBuilder html, string observed)
    {
        html.Append("\n<ul class=\"counts\">\n");
        foreach (var part in observed.Split("; ", StringSplitOptions.RemoveEmptyEntries)) html.Append("<li>").Append(E(part)).Append("</li>\n");
        html.Append("</ul>\n");
    }

    private static void Teardown(StringBuilder html, RunRecord run)
    {
        var result = run.Result;
        html.Append("<section class=\"teardown ").Append(result is null ? "unknown" : result.Teardown.Clean ? "passed" : "failed").Append("\" id=\"teardown\">\n<h2>Teardown</h2>\n");
        if (result is not { Teardown: var report })
        {
            html.Append("<p>The run did not finish, so its teardown is not known.</p>\n");
        }
        else
        {
            var gone = report.AlreadyGone.Count;
            html.Append("<p>").Append(report.Undone.ToString(CultureInfo.InvariantCulture)).Append(report.Undone == 1 ? " undo record" : " undo records")
                .Append(" replayed, newest first")
                .Append(report.Settled > 0 ? $" ({report.Settled.ToString(CultureInfo.InvariantCulture)} of them went with their namespace, not run)" : "")
                .Append(gone > 0 ? $" ({gone.ToString(CultureInfo.InvariantCulture)} already gone with what held them)" : "")
                .Append(", in ").Append(Seconds(report.Elapsed)).Append(".</p>\n");
            if (report.Clean) html.Append("<p class=\"clean\"><span class=\"mark\">✓</span> Nothing of the lab is left on the host.</p>\n");
            else
            {
                html.Append("<p class=\"left\"><span class=\"mark\">✗</span> Left behind (the journal is kept: <code>labrunner clean</code> removes it):</p>\n<ul class=\"leftovers\">\n");
                foreach (var left in report.Leftovers) html.Append("<li>").Append(E(left)).Append("</li>\n");
                html.Append("</ul>\n");
            }
            if (report.Problems.Count > 0)
            {
                html.Append("<ul class=\"problems\">\n");
                foreach (var problem in report.Problems) html.Append("<li>").Append(E(problem)).Append("</li>\n");
                html.Append("</ul>\n");
            }
        }
        var commands = run.TeardownCommands.Where(c => c.Purpose == CommandPurpose.Teardown).ToList();
        if (commands.Count > 0)
        {
            html.Append("<details><summary>").Append(commands.Count.ToString(CultureInfo.InvariantCulture)).Append(" teardown commands</summary>\n");
            Commands(html, commands, "the teardown's commands", result?.Teardown.AlreadyGone);
            html.Append("</details>\n");
        }
        html.Append("</section>\n");
    }

    private static void Commands(StringBuilder html, IEnumerable<RecordedCommand> commands, string label, IReadOnlyList<string>? alreadyGone = null)
    {
        html.Append("<pre class=\"commands\" aria-label=\"").Append(E(label)).Append("\"><code>");
        foreach (var c in commands)
        {
            html.Append("<span class=\"prompt\">$ </span>").Append(E(c.Display));
            if (c.ExitCode != 0)
                html.Append(alreadyGone?.Contains(c.Display) == true
                    ? "  <span class=\"gone\"># already gone</span>"
                    : $"  <span class=\"exit\"># exit {c.ExitCode.ToString(CultureInfo.InvariantCulture)}</span>");
            html.Append('\n');
        }
        html.Append("</code></pre>\n");
    }

    private static string ActionFailure(RecordedActionOutcome a) => a.Outcome.Status switch
    {
        ActionStatus.DidNotFail => "should have failed but succeeded",
        ActionStatus.FailedDifferently => "failed, but not as expected",
        _ => "failed",
    };

    private static void Fact(StringBuilder html, string name, string value) =>
        html.Append("<div><dt>").Append(E(name)).Append("</dt><dd>").Append(E(value)).Append("</dd></div>\n");

    private static void Paragraphs(StringBuilder html, string text, string cssClass)
    {
        html.Append("<div class=\"").Append(cssClass).Append("\">\n");
        foreach (var paragraph in text.Trim().ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
            html.Append("<p>").Append(E(paragraph.Trim())).Append("</p>\n");
        html.Append("</div>\n");
    }

    private static string VerdictClass(LabResult? result) => result switch
    {
        null => "unknown",
        { Teardown.Clean: false } => "failed",
        { Outcome: LabOutcome.Passed } => "passed",
        { Outcome: LabOutcome.Failed } => "failed",
        _ => "interrupted",
    };

    private static string Mark(bool passed) => passed ? "✓" : "✗";

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    /// <summary>Text as HTML shows it literally, in an element or an attribute: &amp; &lt; &gt; " ' escaped.</summary>
    public static string E(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
            escaped.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        return escaped.ToString();
    }

    /// <summary>
    /// Large type and strong contrast for a projector; light or dark as the reader's system prefers; pass and fail by
    /// mark as well as colour. The SVG drawing takes its colours from here too (its elements carry Graphviz classes and
    /// our own: place host/netns/container, link kind, edge veth/port).
    /// </summary>
    private const string Css = """
        :root {
          --bg: #ffffff; --fg: #161616; --muted: #4a4a4a; --rule: #d0d4da; --code-bg: #f3f5f7;
          --pass: #0b6e2e; --pass-bg: #e6f4ea; --fail: #b3261e; --fail-bg: #fdecea; --warn: #8a5a00;
          --line: #2b2b2b; --node-bg: #ffffff; --host-bg: #e8f0fb; --netns-bg: #f1ecfa; --container-bg: #e9f6ec;
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #111418; --fg: #ececec; --muted: #b4b9c0; --rule: #3a4049; --code-bg: #1c2128;
            --pass: #6fdc8c; --pass-bg: #143321; --fail: #ff8a80; --fail-bg: #3b1715; --warn: #f2c14e;
            --line: #d6d6d6; --node-bg: #232a33; --host-bg: #17263a; --netns-bg: #2a2140; --container-bg: #173024;
          }
        }
        * { box-sizing: border-box; }
        html { font-size: 20px; }
        body { margin: 0 auto; max-width: 68rem; padding: 1.5rem 2rem 3rem; background: var(--bg); color: var(--fg);
               font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; line-height: 1.5; }
        h1 { font-size: 2.2rem; margin: 0.2rem 0 0.6rem; line-height: 1.2; }
        h2 { font-size: 1.5rem; margin: 0.2rem 0 0.6rem; line-height: 1.25; }
        h3 { font-size: 1.05rem; margin: 1rem 0 0.3rem; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
        code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 0.9rem; }
        pre.commands { background: var(--code-bg); border: 1px solid var(--rule); border-radius: 6px; padding: 0.6rem 0.8rem; margin: 0.3rem 0;
                       white-space: pre-wrap; overflow-wrap: anywhere; }
        .prompt { color: var(--muted); user-select: none; }
        .exit { color: var(--warn); font-weight: bold; }
        .gone { color: var(--muted); }
        .kicker { margin: 0; color: var(--muted); text-transform: uppercase; letter-spacing: 0.08em; font-size: 0.85rem; }
        .description, .text { color: var(--fg); }
        .verdict { display: inline-block; font-size: 1.4rem; font-weight: bold; padding: 0.2rem 0.8rem; border-radius: 6px; margin: 0.4rem 0; }
        .verdict.passed { color: var(--pass); background: var(--pass-bg); }
        .verdict.failed, .verdict.interrupted, .verdict.unknown { color: var(--fail); background: var(--fail-bg); }
        .facts { display: flex; flex-wrap: wrap; gap: 0.3rem 1.6rem; margin: 0.6rem 0 0; }
        .facts div { display: flex; gap: 0.4rem; }
        .facts dt { color: var(--muted); }
        .facts dd { margin: 0; font-weight: bold; }
        nav { margin: 1.2rem 0; border-top: 2px solid var(--rule); border-bottom: 2px solid var(--rule); padding: 0.5rem 0; }
        .toc { margin: 0; padding-left: 2rem; columns: 2 22rem; }
        .toc a { color: inherit; text-decoration: none; }
        .toc a:hover { text-decoration: underline; }
        .toc .failed, .toc .failed a { color: var(--fail); font-weight: bold; }
        .toc .not-run { color: var(--muted); }
        .mark { font-weight: bold; }
        .passed > h2 .mark, li.held > .mark, .clean .mark { color: var(--pass); }
        .failed > h2 .mark, li.failed > .mark, .left .mark { color: var(--fail); }
        section { border-top: 1px solid var(--rule); padding: 1rem 0 0.6rem; }
        section.step.failed { border-left: 6px solid var(--fail); padding-left: 1rem; background: linear-gradient(90deg, var(--fail-bg), transparent 40%); }
        .step-number { margin: 0; color: var(--muted); font-size: 0.85rem; }
        .checks { list-style: none; padding: 0; margin: 0.3rem 0; }
        .checks > li { margin: 0.35rem 0; padding-left: 1.6rem; text-indent: -1.6rem; }
        .checks > li > * { text-indent: 0; }
        .checks .observed { color: var(--muted); }
        li.failed > strong { color: var(--fail); }
        li.failed .observed { color: var(--fg); margin-top: 0.15rem; }
        .at, .tries { color: var(--muted); font-size: 0.85rem; }
        .why { list-style: none; padding: 0.3rem 0.6rem; margin: 0.3rem 0; border-left: 4px solid var(--warn); background: var(--code-bg); }
        .why li { margin: 0.2rem 0; }
        .why-label { font-weight: bold; color: var(--warn); }
        .counts { margin: 0.1rem 0 0; padding-left: 1.2rem; }
        .cut-short { color: var(--fail); font-style: italic; }
        details { margin: 0.4rem 0; }
        summary { cursor: pointer; color: var(--muted); }
        figure.topology { margin: 0.8rem 0 0.4rem; padding: 0.6rem; border: 1px solid var(--rule); border-radius: 8px; }
        figure.topology svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
        figcaption { color: var(--muted); font-size: 0.85rem; margin-top: 0.3rem; }
        .no-picture { color: var(--warn); margin: 0.2rem 0; }
        .topology svg text { fill: var(--fg); }
        .topology svg .cluster > path, .topology svg .cluster > polygon { stroke: var(--line); }
        .topology svg .cluster.host > path, .topology svg .cluster.host > polygon { fill: var(--host-bg); }
        .topology svg .cluster.netns > path, .topology svg .cluster.netns > polygon { fill: var(--netns-bg); }
        .topology svg .cluster.container > path, .topology svg .cluster.container > polygon { fill: var(--container-bg); }
        .topology svg .node > path, .topology svg .node > polygon { fill: var(--node-bg); stroke: var(--line); }
        .topology svg .node.empty > polygon { fill: none; stroke: none; }
        .topology svg .edge > path { stroke: var(--line); }
        .leftovers, .problems { color: var(--fail); }
        footer { margin-top: 2rem; color: var(--muted); font-size: 0.8rem; border-top: 1px solid var(--rule); padding-top: 0.6rem; }
        @media print { body { max-width: none; } details { display: block; } }
        """;
}
