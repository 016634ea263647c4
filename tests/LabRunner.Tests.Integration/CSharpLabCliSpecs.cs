using System.Text.RegularExpressions;
using LabRunner.Platform;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>`labrunner run|validate|plan` on C# labs (.csx), as a user runs them.</summary>
public sealed class CSharpLabCliSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Article_csx_runs_passes_and_leaves_nothing()
    {
        Root.Require();
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/article.csx")], ct: Ct);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("PASSED: 54/54 expectations held", run.Stdout);
        Assert.Contains("✓ ping from busybox-2 to 172.16.100.101 fails (2 sent, 0 received", run.Stdout);
        Assert.Contains("✓ veth-add failed as expected: RTNETLINK answers: File exists", run.Stdout);
        Assert.Contains("nothing of the lab is left", run.Stdout);
        var id = Regex.Match(run.Stdout, @"\(id ([0-9a-f]{6}),").Groups[1].Value;
        Assert.Empty(await LeftBehindAsync(before, id));
    }

    [Fact]
    public async Task A_csx_with_a_type_error_exits_2_with_its_position_and_touches_nothing()
    {
        Root.Require();
        var lab = WriteTemp("""
            var lab = Lab.Named("typo")
                .Step("a namespace", s => s
                    .Netns("n1")
                    .Sysctl("net.ipv4.ip_forward", 1).In("n1"));
            return lab;
            """);
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", lab], ct: Ct);
        var validate = await LabCli.RunAsync(["validate", lab], ct: Ct);
        var plan = await LabCli.RunAsync(["plan", lab], ct: Ct);

        foreach (var r in new[] { run, validate, plan })
        {
            Assert.True(r.ExitCode == 2, r.ToString());
            // Builder methods are extension methods (each kind's in its own file): C# counts the receiver, so `1` is argument 3.
            Assert.Contains($"{lab}:4:40: error CS1503: Argument 3: cannot convert from 'int' to 'string'", r.Stderr);
            Assert.Contains("nothing was run", r.Stderr);
            Assert.DoesNotContain("$ ip", r.Stdout);
            Assert.DoesNotContain("(id ", r.Stdout); // no lab was even started
        }
        Assert.Empty(await LeftBehindAsync(before, labId: null));
    }

    [Fact]
    public async Task An_invalid_csx_lab_exits_2_with_the_line_that_wrote_the_action()
    {
        var lab = WriteTemp("""
            return Lab.Named("flow")
                .Step("one", s => s
                    .Veth("veth-1", "veth-2")
                    .Attach("br-0", "veth-1"));
            """);

        var validate = await LabCli.RunAsync(["validate", lab], ct: Ct);

        Assert.True(validate.ExitCode == 2, validate.ToString());
        Assert.Contains($"{lab}:4:1: error: link 'br-0' does not exist in host at this point", validate.Stderr);
    }

    [Fact]
    public async Task Validate_and_plan_work_on_csx_and_print_what_they_print_for_yaml()
    {
        var csx = await LabCli.RunAsync(["validate", LabCli.Scenario("article/article.csx")], ct: Ct);
        var yaml = await LabCli.RunAsync(["validate", LabCli.Scenario("article/article.yaml")], ct: Ct);
        var csxPlan = await LabCli.RunAsync(["plan", LabCli.Scenario("article/article.csx")], ct: Ct);

        Assert.True(csx.ExitCode == 0, csx.ToString());
        Assert.Equal(yaml.Stdout.Replace("article.yaml", "article.csx", StringComparison.Ordinal), csx.Stdout);
        Assert.True(csxPlan.ExitCode == 0, csxPlan.ToString());
        Assert.Contains("$ ip -n lr-", csxPlan.Stdout);
        Assert.Contains("54 checks; nothing was run.", csxPlan.Stdout);
    }

    public static TheoryData<string> ScriptCommands() => ["validate", "plan", "graph", "run"];

    [Theory]
    [MemberData(nameof(ScriptCommands))]
    public async Task A_csx_that_recurses_forever_exits_2_at_the_recursing_line_without_a_stack_trace(string command)
    {
        var lab = WriteTemp("""
            int Down(int n) => Down(n + 1) + 1;

            var depth = Down(0);
            return Lab.Named("deep").Step("s", s => s.Netns("n1"));
            """);

        var r = await LabCli.RunAsync([command, lab], ct: Ct);

        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith($"{lab}:1:", r.Stderr);
        Assert.Contains("error: the script recursed too deeply", r.Stderr);
        Assert.DoesNotContain("   at ", r.Output); // no runtime stack trace
        Assert.DoesNotContain("Stack overflow", r.Output);
        Assert.DoesNotContain("(id ", r.Stdout); // no lab was started
    }

    [Theory]
    [MemberData(nameof(ScriptCommands))]
    public async Task A_csx_that_never_ends_exits_2_at_its_script_timeout_with_the_looping_line(string command)
    {
        var lab = WriteTemp("""
            var n = 0L;
            while (n >= 0)
                n = n * 2 % 7;
            return Lab.Named("endless").Step("s", s => s.Netns("n1"));
            """);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromSeconds(60)); // a liveness bound, not a speed one: without the script timeout it never returns

        var r = await LabCli.RunAsync([command, lab, "--script-timeout", "2"], ct: limit.Token);

        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith($"{lab}:3:", r.Stderr);
        Assert.Contains("error: the script did not finish within 2 s (--script-timeout)", r.Stderr);
        Assert.DoesNotContain("   at ", r.Output);
    }

    [Fact]
    public async Task The_script_timeout_must_be_a_positive_number_of_seconds()
    {
        var r = await LabCli.RunAsync(["validate", LabCli.Scenario("article/article.csx"), "--script-timeout", "0"], ct: Ct);

        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("--script-timeout", r.Output);
    }

    /// <summary>
    /// What this test added to the machine and did not take away. Other engineers' labs may run here at the same
    /// time, with state directories HostSnapshot cannot see: entries of a lab with another id, or of a container
    /// process labelled with another id, are theirs; what they remove is theirs too. Anything else must persist
    /// for a few seconds to count (a leak stays; a running lab's container symlinks come and go).
    /// </summary>
    private static async Task<IReadOnlyList<string>> LeftBehindAsync(HostSnapshot before, string? labId)
    {
        bool Foreign(string difference)
        {
            if (difference.Contains(": -", StringComparison.Ordinal)) return true;
            if (Regex.Match(difference, @"lr-([0-9a-f]{6})") is { Success: true } m) return m.Groups[1].Value != labId;
            if (Regex.Match(difference, @"labelled container processes: \+PID \d+ ([0-9a-f]{6})/") is { Success: true } c) return c.Groups[1].Value != labId;
            return Regex.Match(difference, @"(?:entries: \+|/run/netns/)(\d+)$") is { Success: true } p &&
                   Processes.WithEnvironmentName(Runtimes.ProcessRuntime.LabelVariable)
                       .Any(x => x.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture) == p.Groups[1].Value && !x.Value.StartsWith($"{labId}/", StringComparison.Ordinal));
        }
        IReadOnlyList<string> left = [];
        for (var attempt = 0; attempt < 20; attempt++)
        {
            left = [.. before.Diff(HostSnapshot.Take()).Where(d => !Foreign(d))];
            if (left.Count == 0) return left;
            await Task.Delay(500, Ct);
        }
        return left;
    }

    private static string WriteTemp(string text) => TestFiles.Write(text, ".csx");
}
