using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// --host runs in the caller's namespace. Tested inside an outer namespace of the test's own (never the
/// machine's): it gets an uplink ens3 192.168.64.6/24 whose far end is in a second namespace.
/// </summary>
public sealed class HostModeSpecs : IAsyncLifetime
{
    private readonly OuterHost _host = new("lrt");

    private string Outer => _host.Name;

    private string[] InOuter => _host.Enter;

    public async ValueTask InitializeAsync() => await _host.CreateAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task The_article_runs_in_the_callers_namespace_and_leaves_it_as_before()
    {
        Root.Require();
        var before = HostSnapshot.Take(new SnapshotOptions { AlsoNamespaces = [Outer] });

        var run = await LabCli.RunAsync(["run", "--host", LabCli.Scenario("article/article.yaml")], prefix: InOuter, ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("host: this host (--host)", run.Stdout);
        Assert.Contains("$ ip netns add n1", run.Stdout); // the article's own names in --host mode
        Assert.Empty(before.Diff(HostSnapshot.Take(new SnapshotOptions { AlsoNamespaces = [Outer] })));
    }

    [Fact]
    public async Task A_lab_whose_names_already_exist_on_the_host_is_refused_with_exit_2()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(0, await LabCli.ShAsync(["ip", "-n", Outer, "link", "add", "br-0", "type", "bridge"], ct));
        var before = HostSnapshot.Take(new SnapshotOptions { AlsoNamespaces = [Outer] });

        var run = await LabCli.RunAsync(["run", "--host", LabCli.Scenario("article/01-veth-bridge.yaml")], prefix: InOuter, ct: ct);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("link br-0", run.Stderr);
        Assert.Empty(before.Diff(HostSnapshot.Take(new SnapshotOptions { AlsoNamespaces = [Outer] })));
    }
}
