using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The cross-host labs (scenarios/cross-host) on the real kernel: two host namespaces joined by an underlay veth,
/// a container on each, connected by host-gw routes or by a VXLAN overlay; nothing left afterwards.
/// </summary>
public sealed class CrossHostSpecs
{
    private static string Lab(string file) => Path.Combine(LabCli.RepoRoot, "scenarios", "cross-host", file);

    [Fact]
    public async Task Host_gw_routes_container_subnets_across_hosts_without_encapsulation()
    {
        Root.Require();
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", Lab("host-gw.yaml")], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("PASSED: 10/10 expectations held", run.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Theory]
    [MemberData(nameof(Root.Runtimes), MemberType = typeof(Root))]
    public async Task A_vxlan_overlay_stretches_one_subnet_across_hosts_on_every_runtime(string runtime)
    {
        Root.Require(runtime);
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", Lab("vxlan.yaml"), "--runtime", runtime], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("link add name vxlan0 type vxlan id 42 remote 10.0.0.2 local 10.0.0.1 dev eth0 dstport 4789", run.Stdout);
        Assert.Contains("PASSED: 9/9 expectations held", run.Stdout);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }
}
