using System.Globalization;
using System.Text;
using System.Xml.Linq;
using LabRunner.Engine;
using LabRunner.Execution;

namespace LabRunner.Reporting;

/// <summary>
/// A run as JUnit XML, the format CI servers (GitLab, Jenkins, GitHub actions' reporters) read, valid against the
/// Jenkins xUnit plugin's junit-10.xsd (the dialect they share): one test suite per lab and runtime (so runs of one
/// lab on two runtimes stay apart), with the machine's hostname and the lab file; one test case per step (failed with
/// expected vs observed and the diagnosis, or skipped when an earlier step failed), and one for the teardown (failed
/// when something was left behind).
/// </summary>
public static class JUnitReport
{
    /// <param name="runtime">The container runtime the lab ran on (process, containerd, docker), part of the suite's name.</param>
    public static XDocument Create(RunRecord run, string? runtime = null)
    {
        var lab = runtime is null ? run.Scenario.Name : $"{run.Scenario.Name} ({runtime})";
        var cases = new List<XElement>();
        foreach (var step in run.Steps)
        {
            var testCase = Case(lab, $"{step.Number:00} {step.Step.Title}", step.Elapsed);
            if (!step.Passed)
            {
                var (message, detail) = Failure(step, run.Result);
                testCase.Add(run.Result?.Outcome == LabOutcome.Interrupted && step == run.Steps[^1]
                    ? new XElement("error", new XAttribute("message", message), new XAttribute("type", "interrupted"), detail)
                    : new XElement("failure", new XAttribute("message", message), new XAttribute("type", "expectation"), detail));
            }
            testCase.Add(new XElement("system-out", $"# {step.Step.Span}\n" + Transcript(step)));
            cases.Add(testCase);
        }
        var number = run.Steps.Length;
        var notRun = run.Result?.StoppedEarly is { } why ? $"not run: the run {why}" : "not run: an earlier step failed or the run was stopped";
        foreach (var step in run.NotRun)
            cases.Add(Case(lab, $"{++number:00} {step.Title}", TimeSpan.Zero,
                new XElement("skipped", new XAttribute("message", notRun)), new XElement("system-out", $"# {step.Span}")));

        var teardown = Case(lab, "teardown", run.Result?.Teardown.Elapsed ?? TimeSpan.Zero);
        if (run.Result is { Teardown: var report } && !report.Clean)
            teardown.Add(new XElement("failure", new XAttribute("message", "left behind: " + string.Join("; ", report.Leftovers)),
                new XAttribute("type", "leftover"), string.Join("\n", report.Leftovers.Concat(report.Problems))));
        teardown.Add(new XElement("system-out", string.Join("\n", run.TeardownCommands.Select(c => "$ " + c.Display))));
        cases.Add(teardown);

        var failures = cases.Count(c => c.Element("failure") is not null);
        var errors = cases.Count(c => c.Element("error") is not null);
        var skipped = cases.Count(c => c.Element("skipped") is not null);
        var time = Seconds(run.Result?.Elapsed ?? TimeSpan.FromTicks(run.Steps.Sum(s => s.Elapsed.Ticks)));
        XAttribute[] Counts() => [new("tests", cases.Count), new("failures", failures), new("errors", errors), new("time", time)];
        var suite = new XElement("testsuite", new XAttribute("name", lab), Counts(), new XAttribute("skipped", skipped),
            new XAttribute("timestamp", run.Started.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)),
            new XAttribute("hostname", Environment.MachineName), new XAttribute("file", run.Scenario.Span.File),
            new XElement("properties",
                new XElement("property", new XAttribute("name", "lab-id"), new XAttribute("value", run.LabId)),
                new XElement("property", new XAttribute("name", "mode"), new XAttribute("value", run.Sandbox ? "sandbox" : "host")),
                new XElement("property", new XAttribute("name", "exit-code"), new XAttribute("value", run.Result?.ExitCode() ?? -1))),
            cases);
        return new XDocument(new XDeclaration("1.0", "utf-8", null), new XElement("testsuites", new XAttribute("name", "labrunner"), Counts(), suite));
    }

    /// <summary>A test case (junit-10 has no file or line on one: a step's system-out starts with where it is written).</summary>
    private static XElement Case(string lab, string name, TimeSpan time, params object[] content) =>
        new("testcase", new XAttribute("classname", lab), new XAttribute("name", name), new XAttribute("time", Seconds(time)), content);

    private static (string Message, string Detail) Failure(RecordedStep step, LabResult? result)
    {
        var lines = new List<string>();
        foreach (var failure in step.ActionFailures)
            lines.Add($"{failure.Action.Span}: {failure.Action.Keyword}: {failure.Outcome.Status}: {failure.Outcome.Observed}");
        foreach (var check in step.Checks.Where(c => !c.Result.Held))
        {
            lines.Add($"{check.Expectation.Span}: expected {check.Result.Expected}");
            lines.Add($"  observed: {check.Result.Observed} (after {check.Result.Attempts} tries in {check.Result.Elapsed.TotalSeconds:0.0}s)");
            lines.AddRange(check.Result.Diagnosis.Select(d => "  why: " + d));
        }
        if (lines.Count == 0) lines.Add(result?.Outcome == LabOutcome.Interrupted ? "interrupted by a signal; teardown was done" : "the step did not finish");
        var first = step.Checks.FirstOrDefault(c => !c.Result.Held) is { } c
            ? $"expected {c.Result.Expected}; observed {c.Result.Observed}"
            : lines[0];
        return (first, string.Join("\n", lines));
    }

    /// <summary>What the console shows for the step: the commands of its actions and each check with its mark.</summary>
    private static string Transcript(RecordedStep step)
    {
        var text = new StringBuilder();
        foreach (var command in step.Commands.Where(c => c.Purpose.ShownByDefault()))
            text.Append("$ ").Append(command.Display).Append(command.ExitCode == 0 ? "" : $"   # exit {command.ExitCode}").Append('\n');
        foreach (var a in step.NotableActions.Where(a => !a.Failed))
            text.Append("✓ ").Append(a.Action.Keyword).Append(" failed as expected: ").Append(a.Outcome.Observed).Append('\n');
        foreach (var check in step.Checks)
            text.Append(check.Result.Held ? "✓ " : "✗ ").Append(check.Result.Expected).Append(" (").Append(check.Result.Observed).Append(")\n");
        return text.ToString().TrimEnd();
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);
}
