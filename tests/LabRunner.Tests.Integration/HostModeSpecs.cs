using LabRunner.Platform;

namespace LabRunner.Tests.Integration;

/// <summary>
/// --host runs in the caller's namespace. Tested inside an outer namespace of the test's own (never the
/// machine's): it gets an uplink ens3 192.168.64.6/24 whose far end is in a second namespace.
/// </summary>
public sealed class HostModeSpecs : IAsyncLifetime
{
    private readonly string _outer = $"lrt-{Guid.NewGuid():N}"[..12];

    private string Wan => _outer + "-w";

    public async ValueTask InitializeAsync()
    {
        if (!Processes.IsRoot) return;
        var ct = TestContext.Current.CancellationToken;
        foreach (var argv in new[]
                 {
                     ["ip", "netns", "add", _outer], ["ip", "netns", "add", Wan],
                     ["ip", "-n", _outer, "link", "add", "ens3", "type", "veth", "peer", "name", "wan0", "netns", Wan],
                     ["ip", "-n", _outer, "addr", "add", "192.168.64.6/24", "dev", "ens3"],
                     ["ip", "-n", _outer, "link", "set", "ens3", "up"], ["ip", "-n", Wan, "link", "set", "wan0", "up"],
                     new[] { "ip", "-n", _outer, "link", "set", "lo", "up" },
                 })
            Assert.Equal(0, await LabCli.ShAsync(argv, ct));
    }

    public async ValueTask DisposeAsync()
    {
        if (!Processes.IsRoot) return;
        await LabCli.ShAsync(["ip", "netns", "delete", Wan]);
        await LabCli.ShAsync(["ip", "netns", "delete", _outer]);
    }

    private string[] InOuter => ["nsenter", $"--net=/var/run/netns/{_outer}"];

    [Fact]
    public async Task The_article_runs_in_the_callers_namespace_and_leaves_it_as_before()
    {
        Root.Require();
        var before = HostSnapshot.Take(alsoNamespaces: [_outer]);

        var run = await LabCli.RunAsync(["run", "--host", LabCli.Scenario("article/article.yaml")], prefix: InOuter, ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("host: this host (--host)", run.Stdout);
        Assert.Contains("$ ip netns add n1", run.Stdout); // the article's own names in --host mode
        Assert.Empty(before.Diff(HostSnapshot.Take(alsoNamespaces: [_outer])));
    }

    [Fact]
    public async Task A_lab_whose_names_already_exist_on_the_host_is_refused_with_exit_2()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(0, await LabCli.ShAsync(["ip", "-n", _outer, "link", "add", "br-0", "type", "bridge"], ct));
        var before = HostSnapshot.Take(alsoNamespaces: [_outer]);

        var run = await LabCli.RunAsync(["run", "--host", LabCli.Scenario("article/01-veth-bridge.yaml")], prefix: InOuter, ct: ct);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("link br-0", run.Stderr);
        Assert.Empty(before.Diff(HostSnapshot.Take(alsoNamespaces: [_outer])));
    }
}
