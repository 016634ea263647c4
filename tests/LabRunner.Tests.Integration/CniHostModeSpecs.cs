using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The CNI labs with --host, inside an outer namespace of the test's own (a dedicated VM's stand-in, never the machine's):
/// the plugins then work in the caller's namespace, so what DEL and the lab's own undos leave there is seen by the
/// snapshot (links, addresses, routes, sysctls such as the forwarding bridge and ptp turn on, iptables); and a cni0 the
/// host has already is refused before anything is touched.
/// </summary>
public sealed class CniHostModeSpecs : IAsyncLifetime
{
    private readonly OuterHost _host = new("lrn");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await _host.CreateAsync(Ct);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private SnapshotOptions InOuter => new() { AlsoNamespaces = [_host.Name] };

    /// <summary>The labs of scenarios/cni that --host can run: not those that work in `wan`, which a real host does not have.</summary>
    public static TheoryData<string> HostLabs() =>
        [.. Directory.EnumerateFiles(LabCli.Scenario("cni"), "*.yaml").Where(f => !File.ReadAllText(f).Contains("in: wan", StringComparison.Ordinal))
            .Select(f => Path.GetFileName(f)!).Order()];

    [Theory]
    [MemberData(nameof(HostLabs))]
    public async Task A_CNI_lab_with_host_leaves_the_callers_namespace_as_before(string lab)
    {
        Root.Require();
        var state = Directory.CreateTempSubdirectory("lr-cni-state-").FullName;
        try
        {
            var before = HostSnapshot.Take(InOuter);

            var run = await LabCli.RunAsync(["run", "--host", LabCli.Scenario($"cni/{lab}"), "--state-dir", state, "--verbose"], prefix: _host.Enter, ct: Ct);

            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("host: this host (--host)", run.Stdout);
            Assert.Contains("CNI_COMMAND=DEL", run.Stdout);
            Assert.Empty(before.Diff(HostSnapshot.Take(InOuter)));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task A_cni0_the_host_has_already_is_a_clash_exit_2_and_nothing_is_touched()
    {
        Root.Require();
        Assert.Equal(0, await LabCli.ShAsync(["ip", "-n", _host.Name, "link", "add", "cni0", "type", "bridge"], Ct));
        var before = HostSnapshot.Take(InOuter);

        var run = await LabCli.RunAsync(["run", "--host", LabCli.Scenario("cni/bridge-host-local.yaml")], prefix: _host.Enter, ct: Ct);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("link cni0, the bridge of CNI network lab-net (", run.Stderr);
        Assert.DoesNotContain("CNI_COMMAND", run.Output);
        Assert.Empty(before.Diff(HostSnapshot.Take(InOuter)));
    }
}
