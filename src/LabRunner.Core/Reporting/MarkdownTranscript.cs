using System.Globalization;
using System.Text;
using LabRunner.Engine;
using LabRunner.Execution;

namespace LabRunner.Reporting;

/// <summary>
/// A run written up as Markdown, the way the article reads: each step's title and text, the commands it really ran
/// (with the lab's real names and PIDs), and what was observed, each check with its mark; failures with expected,
/// observed and the diagnosis; then the teardown. For workshop hand-outs and bug reports.
/// </summary>
public static class MarkdownTranscript
{
    public static string Create(RunRecord run)
    {
        var md = new StringBuilder();
        var s = run.Scenario;
        md.Append("# ").Append(s.Name).Append("\n\n");
        if (!string.IsNullOrWhiteSpace(s.Description)) md.Append(Quote(s.Description)).Append('\n');
        var result = run.Result;
        var checks = run.Steps.SelectMany(x => x.Checks).ToList();
        md.Append(CultureInfo.InvariantCulture, $"Lab `{run.LabId}`, {(run.Sandbox ? $"sandboxed (the host is the network namespace `lr-{run.LabId}`)" : "on the host")}, ")
          .Append(CultureInfo.InvariantCulture, $"started {run.Started.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC. ")
          .Append(CultureInfo.InvariantCulture, $"**{Verdict(result)}**: {checks.Count(c => c.Result.Held)} of {checks.Count} checks held")
          .Append(result is null ? "" : string.Create(CultureInfo.InvariantCulture, $" in {result.Elapsed.TotalSeconds:0.0} s"))
          .Append(CultureInfo.InvariantCulture, $"; exit code {result?.ExitCode().ToString(CultureInfo.InvariantCulture) ?? "?"}.\n\n");

        md.Append(run.Steps.Length == s.Steps.Length ? "## Topology\n\n" : $"## Topology after step {run.Steps.Length}\n\n");
        // What the kernel held after the last step run, when the run observed it (command actions' doing included);
        // otherwise what the lab file builds.
        if (run.Steps.LastOrDefault()?.Topology?.Topology is { } observed)
            md.Append("As the kernel held it after step ").Append(run.Steps.Length.ToString(CultureInfo.InvariantCulture)).Append(":\n\n")
              .Append("```mermaid\n").Append(observed.ToLabTopology().ToMermaid()).Append("```\n\n");
        else
            md.Append("```mermaid\n").Append(LabTopology.Of(s, run.Steps.Length).ToMermaid()).Append("```\n\n");
        if (run.SetupCommands.Length > 0)
        {
            md.Append("## Sandbox\n\n");
            Commands(md, run.SetupCommands);
        }
        foreach (var step in run.Steps)
        {
            md.Append(CultureInfo.InvariantCulture, $"## {step.Number}. {step.Step.Title}\n\n");
            if (!string.IsNullOrWhiteSpace(step.Step.Text)) md.Append(step.Step.Text.Trim()).Append("\n\n");
            Commands(md, step.Commands.Where(c => c.Purpose.ShownByDefault()));
            foreach (var a in step.NotableActions)
                md.Append(a.Failed
                    ? $"- ✗ `{a.Action.Keyword}` ({Text(a.Action.Span.ToString())}): {a.Outcome.Status}: {Text(a.Outcome.Observed)}\n"
                    : $"- ✓ `{a.Action.Keyword}` failed as expected: {Text(a.Outcome.Observed)}\n");
            foreach (var check in step.Checks)
            {
                var r = check.Result;
                if (r.Held)
                {
                    md.Append(CultureInfo.InvariantCulture, $"- ✓ {Text(r.Expected)} — {Text(r.Observed)}\n");
                    foreach (var why in r.Diagnosis) md.Append("  - why: ").Append(Text(why)).Append('\n');
                    continue;
                }
                md.Append(CultureInfo.InvariantCulture, $"- ✗ **{Text(r.Expected)}** ({Text(check.Expectation.Span.ToString())})\n");
                md.Append(CultureInfo.InvariantCulture, $"  - observed: {Text(r.Observed)} (after {r.Attempts} tries in {r.Elapsed.TotalSeconds:0.0} s)\n");
                foreach (var why in r.Diagnosis) md.Append("  - why: ").Append(Text(why)).Append('\n');
            }
            if (step.NotableActions.Length > 0 || step.Checks.Length > 0) md.Append('\n');
            if (!step.Passed && !step.ActionFailures.Any() && step.Checks.All(c => c.Result.Held))
                md.Append("*This step was cut short (interrupted).*\n\n");
        }
        var notRun = run.NotRun.ToList();
        if (notRun.Count > 0)
        {
            md.Append("## Not run\n\n");
            if (result?.StoppedEarly is { } why) md.Append("The run ").Append(Text(why)).Append(".\n\n");
            foreach (var step in notRun) md.Append("- ").Append(step.Title).Append('\n');
            md.Append('\n');
        }
        md.Append("## Teardown\n\n");
        Commands(md, run.TeardownCommands.Where(c => c.Purpose == CommandPurpose.Teardown), result?.Teardown.AlreadyGone);
        if (result?.Teardown.SettledCommands is { Count: > 0 } settled)
        {
            // What a person tearing down by hand would type, and the teardown did not need to: the namespace took it along.
            md.Append("Not run: these undos went with the namespace they were in, deleted whole above:\n\n```console\n");
            foreach (var command in settled) md.Append("$ ").Append(command).Append('\n');
            md.Append("```\n\n");
        }
        if (result is not null)
            md.Append(result.Teardown.Clean
                ? "Nothing of the lab is left on the host.\n"
                : "Left behind:\n\n" + string.Concat(result.Teardown.Leftovers.Select(l => $"- {l}\n")));
        return md.ToString();
    }

    internal static string Verdict(LabResult? result) => result switch
    {
        null => "NOT FINISHED",
        { Teardown.Clean: false } => "LEFT SOMETHING BEHIND",
        { Outcome: LabOutcome.Passed } => "PASSED",
        { Outcome: LabOutcome.Failed } => "FAILED",
        _ => "INTERRUPTED",
    };

    /// <param name="alreadyGone">Teardown commands that failed only because their object was gone already: said so, not as an exit code.</param>
    private static void Commands(StringBuilder md, IEnumerable<RecordedCommand> commands, IReadOnlyList<string>? alreadyGone = null)
    {
        var list = commands.ToList();
        if (list.Count == 0) return;
        md.Append("```console\n");
        foreach (var c in list)
            md.Append("$ ").Append(c.Display)
              .Append(c.ExitCode == 0 ? "" : alreadyGone?.Contains(c.Display) == true ? "   # already gone" : $"   # exit {c.ExitCode}").Append('\n');
        md.Append("```\n\n");
    }

    /// <summary>
    /// Observed text as Markdown shows it literally (CommonMark backslash escapes, which GitHub, GitLab and VS Code
    /// follow): ip's <c>flags &lt;LOOPBACK,UP&gt;</c> would otherwise vanish as an HTML tag, and * or _ turn into emphasis.
    /// </summary>
    internal static string Text(string? text)
    {
        var escaped = new StringBuilder((text?.Length ?? 0) + 8);
        foreach (var c in text ?? "")
        {
            if (c is '\\' or '`' or '*' or '_' or '<' or '>' or '[' or ']' or '#' or '|') escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }

    private static string Quote(string text) => string.Concat(text.Trim().Split('\n').Select(l => "> " + l.TrimEnd() + "\n"));
}
