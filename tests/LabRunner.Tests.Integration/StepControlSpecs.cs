using System.Text.Json;
using System.Xml.Linq;
using LabRunner.Reliability;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// Step control on the real kernel (issue 15): --until stops after a step and tears down; a --step run paused before a
/// step is listed by `ls` and can be looked around with `exec`; q at the pause tears down. Each run has a state
/// directory of its own, and each compares a host snapshot before and after.
/// </summary>
public sealed class StepControlSpecs
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(120);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Article => LabCli.Scenario("article/article.yaml");

    private static string StateDir() => Path.Combine(Path.GetTempPath(), $"lr-steps-test-{Guid.NewGuid():N}"[..26]);

    private static HostSnapshot Snapshot(string stateDir) => HostSnapshot.Take(new SnapshotOptions { StateRoots = [stateDir] });

    private static void AssertNothingLeft(HostSnapshot before, string stateDir, string? labId, string output)
    {
        var labs = labId is { } id ? new HashSet<string> { id } : [];
        Assert.True(before.Diff(Snapshot(stateDir), labs) is { Count: 0 } diff, $"left: {string.Join("; ", before.Diff(Snapshot(stateDir), labs))}\n{output}");
        Assert.False(Directory.Exists(stateDir) && Directory.EnumerateFileSystemEntries(stateDir).Any(), $"a journal is left in {stateDir}");
        LabProcess.DeleteIfEmpty(stateDir);
    }

    [Fact]
    public async Task Until_3_4_runs_the_article_up_to_3_4_then_tears_down_and_passes()
    {
        Root.Require();
        var stateDir = StateDir();
        var junit = Path.Combine(Path.GetTempPath(), $"lr-steps-{Guid.NewGuid():N}.xml");
        var before = Snapshot(stateDir);
        try
        {
            var run = await LabCli.RunAsync(["run", Article, "--until", "3.4", "--junit", junit, "--state-dir", stateDir], ct: Ct);

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("Step 3.4 (19 of 25): ARP is correct", run.Stdout);
            Assert.DoesNotContain("Step 3.5 (", run.Stdout);
            Assert.Contains("the run ended after step 3.4 (--until)", run.Stdout);
            Assert.Contains("not run (6 steps, as asked):", run.Stdout);
            Assert.Contains("nothing of the lab is left", run.Stdout);
            var skipped = XDocument.Load(junit).Descendants("testcase").Where(c => c.Element("skipped") is not null).ToList();
            Assert.Equal(6, skipped.Count);
            Assert.All(skipped, c => Assert.Equal("not run: the run ended after step 3.4 (--until)", c.Element("skipped")!.Attribute("message")!.Value));
            AssertNothingLeft(before, stateDir, System.Text.RegularExpressions.Regex.Match(run.Stdout, @"\(id ([0-9a-f]{6}),").Groups[1].Value, run.Stdout);
        }
        finally
        {
            File.Delete(junit);
        }
    }

    /// <summary>
    /// A workshop: the article up to 2.6 without pauses (one line each), paused before 2.7. While it waits, `ls` shows it
    /// live at 2.6, `exec` runs `ip -br addr` in busybox-1 (the address 2.6 gave it with a command action), `s` shows
    /// every place; q tears down and the run passes, ended at the pause.
    /// </summary>
    [Fact]
    public async Task A_paused_lab_is_listed_and_exec_reaches_its_container_then_q_tears_down()
    {
        Root.Require();
        var stateDir = StateDir();
        var before = Snapshot(stateDir);

        await using var run = WatchedRun.Start(["run", Article, "--step", "--from", "2.7", "--until", "3.1", "--state-dir", stateDir], new WatchOptions { OwnGroup = true });
        await run.WaitForAsync("press Enter for Step 2.7", Long, Ct);
        var id = run.LabId!;

        var ls = await LabCli.RunAsync(["ls", "--state-dir", stateDir, "--format", "json"], ct: Ct);
        var exec = await LabCli.RunAsync(["exec", "--state-dir", stateDir, id, "busybox-1", "--", "ip", "-br", "addr"], ct: Ct);
        var byName = await LabCli.RunAsync(["exec", "--state-dir", stateDir, "article", "host", "--", "ip", "-br", "link"], ct: Ct);
        var deleted = await LabCli.RunAsync(["exec", "--state-dir", stateDir, id, "n1", "--", "sh", "-c", "exit 7"], ct: Ct);
        var noPlace = await LabCli.RunAsync(["exec", "--state-dir", stateDir, id, "busybox-9", "--", "true"], ct: Ct);
        run.Type("s\n");
        await run.WaitForAsync(o => o.Split("press Enter for Step 2.7").Length > 2, "the prompt again after s", Long, Ct);
        run.Type("q\n");
        var result = await run.ExitAsync(Long, Ct);

        Assert.True(ls.ExitCode == 0, ls.ToString());
        var listed = Assert.Single(JsonDocument.Parse(ls.Stdout).RootElement.EnumerateArray());
        Assert.Equal(id, listed.GetProperty("id").GetString());
        Assert.True(listed.GetProperty("alive").GetBoolean());
        Assert.Equal("2.6", listed.GetProperty("step").GetProperty("number").GetString());
        Assert.Contains("busybox-1", listed.GetProperty("places").EnumerateArray().Select(p => p.GetString()));
        Assert.True(exec.ExitCode == 0, exec.ToString());
        Assert.Matches(@"veth-2@if\d+ +UP +172\.16\.100\.101/24", exec.Stdout);
        Assert.True(byName.ExitCode == 0, byName.ToString());
        Assert.Contains("br-0", byName.Stdout);
        Assert.Contains("ens3", byName.Stdout);
        // Section 1 deleted n1 ("Section 1 is removed, except br-0"): no such place any more.
        Assert.True(deleted.ExitCode == 2, deleted.ToString());
        Assert.Contains("has no place n1 now", deleted.Stderr);
        Assert.True(noPlace.ExitCode == 2, noPlace.ToString());
        Assert.Contains("its places: host, busybox-1", noPlace.Stderr);

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Stdout}");
        Assert.Contains("✓ Step 2.6 (14 of 25): Address and default route inside the container", result.Stdout); // collapsed: one line
        Assert.Contains($"$ ip netns add lr-{id}\n", result.Stdout.ReplaceLineEndings("\n")); // the sandbox is shown
        Assert.DoesNotContain($"$ ip netns add lr-{id}-n1", result.Stdout); // the collapsed steps' commands are not (1.2 made n1)
        Assert.Contains("the lab now", result.Stdout);
        Assert.Contains("172.16.100.101/24", result.Stdout); // s: busybox-1's addresses
        Assert.Contains("the run ended at the pause before step 2.7 (q)", result.Stdout);
        Assert.Contains("nothing of the lab is left", result.Stdout);
        AssertNothingLeft(before, stateDir, id, result.Stdout);
    }

    [Fact]
    public async Task A_command_s_exit_code_is_exec_s()
    {
        Root.Require();
        var stateDir = StateDir();
        var lab = TestFiles.Write("""
            lab: exec-exit
            steps:
              - title: "1 a namespace"
                actions:
                  - netns-add: n1
              - title: "2 the end"
                actions:
                  - netns-add: n2
            """);
        var before = Snapshot(stateDir);

        await using var run = WatchedRun.Start(["run", lab, "--step", "--state-dir", stateDir], new WatchOptions { OwnGroup = true });
        await run.WaitForAsync("press Enter", Long, Ct);
        run.Type("\n");
        await run.WaitForAsync(o => o.Split("press Enter").Length > 2, "the second prompt", Long, Ct);
        var exec = await LabCli.RunAsync(["exec", "--state-dir", stateDir, "exec-exit", "n1", "--", "sh", "-c", "ip -br link; exit 7"], ct: Ct);
        run.Type("c\n");
        var result = await run.ExitAsync(Long, Ct);

        Assert.True(exec.ExitCode == 7, exec.ToString());
        Assert.Contains("lo ", exec.Stdout);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.Stdout}");
        AssertNothingLeft(before, stateDir, run.LabId, result.Stdout);
    }
}
