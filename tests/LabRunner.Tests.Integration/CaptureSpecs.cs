using CliWrap;
using LabRunner.Journal;
using LabRunner.Platform;
using LabRunner.Runtimes;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// Capture expectations on the real kernel (the article's step 3.5 runs in every article spec): a wrong one fails with
/// the packets counted, a bad filter is refused before anything is built, and a tcpdump left by a run killed
/// mid-capture is stopped by `labrunner clean`.
/// </summary>
public sealed class CaptureSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A pcap file's global header: a longer file holds a packet.</summary>
    private const int PcapHeaderBytes = 24;

    /// <summary>Before: the filter reached tcpdump as an option, and '-wFILE' wrote a pcap file.</summary>
    [Fact]
    public async Task A_filter_that_starts_with_a_dash_exits_2_at_its_position_and_writes_nothing()
    {
        var written = Path.Combine(Path.GetTempPath(), $"lr-filter-option-{Guid.NewGuid():N}.pcap");
        var text = await File.ReadAllTextAsync(LabCli.Scenario("article/03-container-to-container.yaml"), Ct);
        const string right = "- { link: veth-2, in: busybox-1, never: [icmp] }";
        var lab = FailureSpecs.WriteTemp(text.Replace(right, $"- {{ link: veth-2, in: busybox-1, never: [\"-w{written}\"] }}"));
        var line = text[..text.IndexOf(right, StringComparison.Ordinal)].Count(c => c == '\n') + 1;

        foreach (var command in new[] { "validate", "plan", "run" })
        {
            var r = await LabCli.RunAsync([command, lab], ct: Ct);

            Assert.True(r.ExitCode == 2, r.ToString());
            Assert.Contains($"{lab}:{line}:", r.Stderr);
            Assert.Contains($"error: a filter in 'never' starts with '-' ('-w{written}'): tcpdump would read it as an option", r.Stderr);
            Assert.DoesNotContain("(id ", r.Stdout);
            Assert.False(File.Exists(written));
        }
    }

    [Fact]
    public async Task A_capture_expecting_the_echo_requests_on_veth_2_while_br_netfilter_drops_them_fails_with_the_counts()
    {
        Root.Require();
        var text = await File.ReadAllTextAsync(LabCli.Scenario("article/03-container-to-container.yaml"), Ct);
        const string right = "- { link: veth-2, in: busybox-1, never: [icmp] }";
        Assert.Contains(right, text);
        var wrong = FailureSpecs.WriteTemp(text.Replace(right, "- { link: veth-2, in: busybox-1, sees: [icmp] }\n        within: 1s"));
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", wrong], ct: Ct);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("failed step: 3.5 tcpdump: the echo requests cross br-0 but never reach veth-2", run.Stdout);
        Assert.Contains("veth-2 in busybox-1 sees 'icmp'", run.Stdout);
        // The transcript shows the tcpdumps and the ping as a trainer would type them, before the result.
        Assert.Matches(@"\$ ip netns exec lr-[0-9a-f]{6} tcpdump -n -Z root --immediate-mode -U -i br-0 -w /run/labrunner/[0-9a-f]{6}/capture-1-1-br-0\.pcap\n", run.Stdout);
        Assert.Matches(@"\$ nsenter -t \d+ -n -u -- busybox ping -c 2 -i 0\.2 -W 1 172\.16\.100\.101\n", run.Stdout);
        Assert.Matches(@"observed: ping: 2 packets transmitted, 0 packets received, 100% packet loss; br-0: \d+ packets, 'icmp\[icmptype\] == icmp-echo and src host 172\.16\.100\.102' 2", run.Stdout);
        Assert.Matches(@"veth-2 in busybox-1: \d+ packets, 'icmp' 0", run.Stdout);
        Assert.Contains("nothing of the lab is left", run.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task A_filter_libpcap_refuses_exits_2_with_its_position_before_anything_is_built()
    {
        Root.Require();
        var bad = FailureSpecs.WriteTemp("""
            lab: bad-filter
            steps:
              - title: t
                actions:
                  - netns-add: n1
                expect:
                  - capture:
                      while: { ping: { from: n1, to: 127.0.0.1 } }
                      on:
                        - { link: lo, in: n1, sees: ["icmp and"] }
            """);
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", bad], ct: Ct);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains($"{bad}:10:15: error: pcap filter 'icmp and' does not compile", run.Stderr);
        Assert.Contains("nothing was run", run.Stderr);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task A_run_killed_during_a_capture_leaves_tcpdump_running_and_clean_stops_it()
    {
        Root.Require();
        var lab = FailureSpecs.WriteTemp("""
            lab: long-capture
            steps:
              - title: a capture that lasts 20 echo requests
                actions:
                  - netns-add: n1
                  - link-up: { in: n1, name: lo }
                expect:
                  - capture:
                      while: { ping: { from: n1, to: 127.0.0.1, count: 20 } }
                      on:
                        - { link: lo, in: n1, sees: [icmp] }
            """);
        var before = HostSnapshot.Take();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        // Without .NET's diagnostics IPC: a run killed with SIGKILL would leave its debugger pipes and socket in /tmp.
        var run = CliWrap.Cli.Wrap("dotnet").WithArguments([Path.Combine(AppContext.BaseDirectory, "labrunner.dll"), "run", lab])
            .WithEnvironmentVariables(new Dictionary<string, string?> { ["DOTNET_EnableDiagnostics"] = "0" })
            .WithValidation(CommandResultValidation.None).ExecuteAsync(stop.Token);

        // The capture is up once a process carries the label LABRUNNER_CONTAINER=ID/capture-1-1, and listening once its
        // pcap file holds a packet (tcpdump writes each at once, -U). Killed before its "listening on" line, tcpdump
        // would die of SIGPIPE writing that line to the dead run's pipe: no leak, but nothing for clean to stop.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        IReadOnlyList<(int Pid, string Value)> captures = [];
        string? pcap = null;
        while (DateTime.UtcNow < deadline && !run.Task.IsCompleted)
        {
            captures = [.. Processes.WithEnvironmentName(ProcessRuntime.LabelVariable).Where(p => p.Value.EndsWith("/capture-1-1", StringComparison.Ordinal)
                && Processes.ParentOf(p.Pid) == run.ProcessId)];
            pcap = captures.Count > 0 ? Path.Combine(LabJournal.DefaultRoot, captures[0].Value.Split('/')[0], "capture-1-1-lo.pcap") : null;
            if (pcap is not null && File.Exists(pcap) && new FileInfo(pcap).Length > PcapHeaderBytes) break;
            await Task.Delay(50, Ct);
        }
        LabRun? cleaned = null;
        try
        {
            Assert.NotEmpty(captures);
            Assert.True(pcap is not null && new FileInfo(pcap).Length > PcapHeaderBytes, $"no packet in {pcap} within 30 s");
            Assert.Equal(0, await LabCli.ShAsync(["kill", "-KILL", run.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)], Ct));
            Assert.Equal(137, (await run).ExitCode);
            Assert.True(Processes.IsRunning(captures[0].Pid), "tcpdump should outlive the killed run until clean"); // the leak clean must fix

            cleaned = await LabCli.RunAsync(["clean"], ct: Ct);
        }
        finally
        {
            // A failed assertion above must not leave the lab (and its tcpdump) to the next test's snapshot.
            if (cleaned is null)
            {
                await stop.CancelAsync(); // kills the run if it still runs
                try { await run; } catch (OperationCanceledException) { }
                await LabCli.RunAsync(["clean"], ct: CancellationToken.None);
            }
        }
        Assert.True(cleaned.ExitCode == 0, cleaned.ToString());
        Assert.False(Processes.IsRunning(captures[0].Pid), "clean left the capture running");
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }
}
