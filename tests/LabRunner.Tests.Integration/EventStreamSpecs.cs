using System.Text.Json;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// `labrunner run --format json` on the real kernel (issue 15): the run's events on stdout, one JSON object a line, the
/// last one the result with the exit code; the console's text on stderr; nothing left.
/// </summary>
public sealed class EventStreamSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Every line of stdout, parsed: each one a JSON object on its own, and nothing else on stdout.</summary>
    private static List<JsonElement> Events(LabRun run)
    {
        Assert.EndsWith("\n", run.Stdout);
        return [.. run.Stdout[..^1].Split('\n').Select(line =>
        {
            using var document = JsonDocument.Parse(line); // throws, naming the line, if one is not JSON
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
            Assert.Equal(1, document.RootElement.GetProperty("v").GetInt32());
            return document.RootElement.Clone();
        })];
    }

    private static string Event(JsonElement e) => e.GetProperty("event").GetString()!;

    [Fact]
    public async Task A_run_with_format_json_writes_its_events_one_a_line_and_ends_with_the_result_and_its_exit_code()
    {
        Root.Require();
        var lab = LabCli.Scenario("article/01-veth-bridge.yaml");
        var steps = Loading.ScenarioLoader.LoadFile(lab).Steps;
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", lab, "--format", "json"], ct: Ct);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
        var events = Events(run);
        Assert.Equal("lab-started", Event(events[0]));
        var id = events[0].GetProperty("run").GetString();
        Assert.Matches("^[0-9a-f]{6}$", id);
        Assert.All(events, e => Assert.Equal(id, e.GetProperty("run").GetString()));
        Assert.Equal(steps.Length, events.Count(e => Event(e) == "step-started"));
        Assert.Equal(steps.Length, events.Count(e => Event(e) == "step-finished" && e.GetProperty("passed").GetBoolean()));
        Assert.Contains(events, e => Event(e) == "command" && e.GetProperty("purpose").GetString() == "action" &&
                                     e.GetProperty("argv").EnumerateArray().Select(a => a.GetString()).SequenceEqual(["ip", "netns", "add", $"lr-{id}-n1"]));
        // Step 1.4's action that must fail, as observed, with where it is written.
        Assert.Contains(events, e => Event(e) == "action-finished" && e.GetProperty("status").GetString() == "failed-as-expected" &&
                                     e.GetProperty("observed").GetString()!.Contains("File exists", StringComparison.Ordinal) &&
                                     e.GetProperty("source").GetString()!.StartsWith(lab + ":", StringComparison.Ordinal));
        Assert.True(events.Single(e => Event(e) == "teardown-finished").GetProperty("clean").GetBoolean());
        var result = events[^1];
        Assert.Equal("result", Event(result));
        Assert.Equal(run.ExitCode, result.GetProperty("exitCode").GetInt32());
        Assert.Equal("passed", result.GetProperty("outcome").GetString());
        Assert.Equal(0, result.GetProperty("expectations").GetProperty("notRun").GetInt32());
        Assert.Equal(1, events.Count(e => Event(e) is "result" or "error"));
        // The person's text is on stderr.
        Assert.Contains("PASSED: ", run.Stderr);
        Assert.Contains("nothing of the lab is left on the host", run.Stderr);
    }

    /// <summary>A failing run (3.2's ping made to succeed): the failed check with its why-lines, the steps not run, exit 1 in the result.</summary>
    [Fact]
    public async Task A_failing_run_with_format_json_streams_the_failed_check_the_steps_not_run_and_exit_1()
    {
        Root.Require();
        var text = await File.ReadAllTextAsync(LabCli.Scenario("article/03-container-to-container.yaml"), Ct);
        const string right = "- ping: { from: busybox-2, to: 172.16.100.101, succeeds: false }";
        Assert.Contains(right, text);
        var lab = FailureSpecs.WriteTemp(text.Replace(right, "- ping: { from: busybox-2, to: 172.16.100.101, within: 1s }"));
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", lab, "--format", "json"], ct: Ct);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
        var events = Events(run);
        var failed = events.Single(e => Event(e) == "expectation-finished" && !e.GetProperty("held").GetBoolean());
        Assert.Contains(failed.GetProperty("why").EnumerateArray(), w => w.GetString()!.Contains("bridged IPv4 frames of br-0 go through iptables", StringComparison.Ordinal));
        Assert.Contains(events, e => Event(e) == "step-not-run" && e.GetProperty("step").GetProperty("title").GetString() == "3.8 busybox-2 reaches busybox-1");
        var result = events[^1];
        Assert.Equal(("result", 1, "failed"), (Event(result), result.GetProperty("exitCode").GetInt32(), result.GetProperty("outcome").GetString()));
        Assert.Equal("3.2 busybox-2 cannot reach busybox-1", result.GetProperty("failedStep").GetString());
        Assert.True(result.GetProperty("expectations").GetProperty("notRun").GetInt32() > 0);
    }

    [Fact]
    public async Task A_usage_error_with_format_json_is_one_error_event_on_stdout_and_its_text_on_stderr()
    {
        var run = await LabCli.RunAsync(["run", "--format", "json", "--bogus", LabCli.Scenario("article/01-veth-bridge.yaml")], ct: Ct);

        Assert.True(run.ExitCode == 2, run.ToString());
        var error = Assert.Single(Events(run));
        Assert.Equal(("error", 2), (Event(error), error.GetProperty("exitCode").GetInt32()));
        Assert.Contains("--bogus", error.GetProperty("message").GetString());
        Assert.Contains("--bogus", run.Stderr);
    }

    [Fact]
    public async Task An_invalid_lab_with_format_json_is_one_error_event_on_stdout_and_its_text_on_stderr()
    {
        Root.Require();
        var lab = FailureSpecs.WriteTemp("lab: x\nsteps:\n  - title: t\n    actions: [ { netns-ad: n1 } ]\n");
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", lab, "--format", "json"], ct: Ct);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
        var error = Assert.Single(Events(run));
        Assert.Equal(("error", 2), (Event(error), error.GetProperty("exitCode").GetInt32()));
        Assert.Equal($"{lab}:4:", error.GetProperty("errors")[0].GetProperty("source").GetString()![..($"{lab}:4:".Length)]);
        Assert.Contains("netns-ad", run.Stderr); // the text as without --format json, on stderr
    }
}
