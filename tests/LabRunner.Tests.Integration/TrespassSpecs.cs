using LabRunner.Reliability;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// No trespass: with --host, a lab whose namespace or container names already exist is refused before it touches
/// anything (exit 2, naming them), and what was there stays. No injection: mutants of the article run for real
/// exit 0/1 (valid) or 2 (invalid) and never change the host. Hostile names are covered by the invalid corpus.
/// </summary>
public sealed class TrespassSpecs : IAsyncLifetime
{
    private readonly OuterHost _host = new("lrt5");

    private string Outer => _host.Name;

    private string[] InOuter => _host.Enter;

    public async ValueTask InitializeAsync() => await _host.CreateAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Theory]
    [MemberData(nameof(Root.Runtimes), MemberType = typeof(Root))]
    public async Task With_host_a_lab_whose_netns_or_container_name_exists_is_refused_and_leaves_them_alone(string runtime)
    {
        Root.Require(runtime);
        var ct = TestContext.Current.CancellationToken;
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (netns, container) = ($"lrt5-ns-{suffix}", $"lrt5-c-{suffix}");
        var scenario = FailureSpecs.WriteTemp($"""
            lab: trespass
            steps:
              - title: names someone else already uses
                actions:
                  - netns-add: {netns}
                  - container-run: {container}
            """);
        string[] startForeign = runtime switch
        {
            "containerd" => ["ctr", "-n", "default", "run", "-d", "docker.io/library/busybox:latest", container, "sleep", "300"],
            "docker" => ["docker", "run", "-d", "--name", container, "--network", "none", "docker.io/library/busybox:latest", "sleep", "300"],
            _ => [],
        };
        string[][] removeForeign = runtime switch
        {
            "containerd" => [["ctr", "-n", "default", "task", "rm", "-f", container], ["ctr", "-n", "default", "containers", "rm", container]],
            "docker" => [["docker", "rm", "-f", container]],
            _ => [],
        };
        try
        {
            if (runtime != "process") Assert.Equal(0, (await LabCli.RunAsync(["image", "seed", "--runtime", runtime], ct: ct)).ExitCode);
            Assert.Equal(0, await LabCli.ShAsync(["ip", "netns", "add", netns], ct));
            if (startForeign.Length > 0) Assert.Equal(0, await LabCli.ShAsync(startForeign, ct));
            var before = HostSnapshot.Take(new SnapshotOptions { AlsoNamespaces = [Outer] });

            var run = await LabCli.RunAsync(["run", "--host", scenario, "--runtime", runtime], prefix: InOuter, ct: ct);

            Assert.True(run.ExitCode == 2, run.ToString());
            Assert.Contains($"netns {netns}", run.Stderr);
            if (runtime != "process") Assert.Contains($"container {container} in {runtime}", run.Stderr);
            Assert.Contains("nothing was touched", run.Stderr);
            // The run must not start a lab at all: whatever belongs to a lab is another run's (the machine is shared).
            Assert.Empty(before.Diff(HostSnapshot.Take(new SnapshotOptions { AlsoNamespaces = [Outer] }), onlyLabs: new HashSet<string>()));
            Assert.True(File.Exists($"/var/run/netns/{netns}"));
        }
        finally
        {
            foreach (var argv in removeForeign) await LabCli.ShAsync(argv, CancellationToken.None); // clean up even when cancelled
            await LabCli.ShAsync(["ip", "netns", "delete", netns], CancellationToken.None);
            File.Delete(scenario);
        }
    }

    [Fact]
    public async Task Mutants_of_the_article_run_for_real_exit_0_1_or_2_and_never_change_the_host()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        const int seed = 5; // the long run (scripts/reliability.sh mutate) draws a new seed each time and prints it
        var report = Mutation.LoadAll(seed, 300);
        var valid = report.ValidMutants.Where(Mutation.Runnable).Take(3).ToList();
        var invalid = report.RejectedMutants.Take(2).ToList();
        Assert.Equal(3, valid.Count);

        var runs = new List<MutantRun>();
        foreach (var m in valid) runs.Add(await Mutation.RunAsync(m, valid: true, "process", ct));
        foreach (var m in invalid) runs.Add(await Mutation.RunAsync(m, valid: false, "process", ct));

        Assert.All(runs, r => Assert.True(r.Problems.Count == 0, Mutation.Describe(seed, r.Mutant, string.Join("\n", r.Problems))));
    }

    [Fact]
    public async Task The_snapshot_sees_links_addresses_routes_sysctls_and_iptables_of_a_namespace()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var before = HostSnapshot.Take(new SnapshotOptions { AlsoNamespaces = [Outer] });
        foreach (var argv in new[]
                 {
                     ["ip", "-n", Outer, "link", "add", "br-t5", "type", "bridge"], ["ip", "-n", Outer, "addr", "add", "10.99.0.1/24", "dev", "br-t5"],
                     ["ip", "-n", Outer, "link", "set", "br-t5", "up"], ["ip", "-n", Outer, "route", "add", "10.98.0.0/16", "dev", "br-t5"],
                     ["ip", "netns", "exec", Outer, "sysctl", "-w", "net.ipv4.ip_forward=1"],
                     new[] { "ip", "netns", "exec", Outer, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "10.99.0.0/24", "-j", "MASQUERADE" },
                 })
            Assert.Equal(0, await LabCli.ShAsync(argv, ct));

        var diff = before.Diff(HostSnapshot.Take(new SnapshotOptions { AlsoNamespaces = [Outer] }));

        var ns = $"netns {Outer}";
        Assert.Contains($"links ({ns}): +br-t5 kind=bridge master=- up", diff);
        Assert.Contains($"addresses ({ns}): +br-t5 inet 10.99.0.1/24", diff);
        Assert.Contains($"routes ({ns}): +unicast 10.98.0.0/16 dev br-t5 table main", diff);
        Assert.Contains($"sysctls ({ns}): -net.ipv4.ip_forward = 0", diff);
        Assert.Contains($"sysctls ({ns}): +net.ipv4.ip_forward = 1", diff);
        Assert.Contains($"iptables nat ({ns}): +-A POSTROUTING -s 10.99.0.0/24 -j MASQUERADE", diff);
    }
}
