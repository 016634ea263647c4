using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Runtimes;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The article, run step by step once with each driver (iproute2: every ip command a process; netlink: in-process),
/// leaves the kernel in the same state after every step: the `ip -j` dumps of every place (the sandbox's host, each
/// namespace the lab made, each container) are equal once what differs from one run to the next is left out (indexes,
/// MACs, netns ids, link-local addresses, timers). The dumps are read with ip itself, not through the driver under test.
/// </summary>
public sealed class DriverEquivalenceSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_article_leaves_the_same_kernel_state_after_every_step_with_either_driver()
    {
        Root.Require();
        var before = HostSnapshot.Take();
        var iproute2 = await RunAsync(CommandDrivers.Iproute2);
        var netlink = await RunAsync(CommandDrivers.Netlink);

        Assert.Equal(iproute2.Select(s => s.Step), netlink.Select(s => s.Step));
        for (var i = 0; i < iproute2.Count; i++)
            Assert.True(iproute2[i].Dumps == netlink[i].Dumps,
                $"after step {iproute2[i].Step}:\n  iproute2: {iproute2[i].Dumps}\n  netlink:  {netlink[i].Dumps}");
        Assert.Contains("\"master\":\"br-0\"", iproute2[^1].Dumps);           // the dumps hold the lab: ports, containers' addresses
        Assert.Contains("\"local\":\"172.16.100.102\"", iproute2[^1].Dumps);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    private sealed record AfterStep(string Step, string Dumps);

    private static async Task<List<AfterStep>> RunAsync(string driver)
    {
        var scenario = ScenarioLoader.LoadFile(LabCli.Scenario("article/article.yaml"));
        var observer = new Quiet();
        var runner = CommandDrivers.Create(driver, new CliWrapCommandRunner(), null);
        var engine = new LabEngine(runner, ContainerRuntimes.Create("process", runner, null), observer, new LabOptions { ScenarioPath = scenario.Span.File });
        var lab = await engine.StartAsync(scenario, Ct);
        var states = new List<AfterStep>();
        try
        {
            foreach (var step in scenario.Steps)
            {
                var outcome = await lab.RunStepAsync(step, Ct);
                Assert.True(outcome.Passed, $"--driver {driver}: step {step.Title} failed");
                states.Add(new AfterStep(step.Title, await SettledDumpAsync(lab.Session)));
            }
        }
        finally
        {
            var result = await lab.TearDownAsync();
            Assert.True(result.Teardown.Clean, string.Join("; ", result.Teardown.Leftovers));
        }
        return states;
    }

    /// <summary>
    /// The dumps once the kernel has settled: the same for 1.1 s. A veth's carrier comes up through the kernel's link
    /// watch, up to a second after `link set up` (ens3 NO-CARRIER right after step 0 with the faster driver): a moment's
    /// state, not a difference the driver made.
    /// </summary>
    private static async Task<string> SettledDumpAsync(LabSession session)
    {
        var dump = await DumpAsync(session);
        var since = System.Diagnostics.Stopwatch.StartNew();
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (since.Elapsed < TimeSpan.FromSeconds(1.1) && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100, Ct);
            var again = await DumpAsync(session);
            if (again != dump) (dump, since) = (again, System.Diagnostics.Stopwatch.StartNew());
        }
        return dump;
    }

    /// <summary>Every place of the lab, by a name that is the same in both runs, with ip's JSON of its links, addresses and routes.</summary>
    private static async Task<string> DumpAsync(LabSession session)
    {
        var places = new List<(string Name, string[] Prefix)> { ("host", ["ip", "-n", session.HostNetns!]) };
        var ownPrefix = $"lr-{session.LabId}-";
        foreach (var ns in Directory.GetFiles("/var/run/netns").Select(Path.GetFileName).Where(n => n!.StartsWith(ownPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            places.Add(($"netns {ns![ownPrefix.Length..]}", ["ip", "-n", ns]));
        foreach (var c in session.Containers.Values.OrderBy(c => c.Name, StringComparer.Ordinal))
            places.Add(($"container {c.Name}", ["nsenter", "-t", c.Pid, "-n", "ip"]));

        var ip = new CliWrapCommandRunner();
        var parts = new List<string>();
        foreach (var (name, prefix) in places)
            foreach (var args in IpDumps.Commands)
            {
                var outcome = await ip.RunAsync([.. prefix, .. args], CommandPurpose.Check, Ct);
                Assert.True(outcome.Succeeded, $"{name}: {outcome.Error}");
                parts.Add($"{name} {string.Join(' ', args)}: {IpDumps.Normalised(outcome.Stdout)}");
            }
        return string.Join('\n', parts);
    }

    private sealed class Quiet : LabObserver;
}
