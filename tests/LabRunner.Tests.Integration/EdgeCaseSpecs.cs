using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>Labs that once passed validation and then broke at run time.</summary>
public sealed class EdgeCaseSpecs
{
    [Fact]
    public async Task Interface_names_that_are_ip_keywords_work_and_are_torn_down()
    {
        Root.Require();
        var scenario = FailureSpecs.WriteTemp("""
            lab: keywords
            steps:
              - title: links named like ip's keywords
                actions:
                  - bridge-add: up
                  - veth-add: { name: type, peer: dev }
                  - bridge-attach: { bridge: up, link: type }
                  - link-up: up
                  - link-up: type
                  - link-up: dev
                expect:
                  - link: { name: up, state: UP }
                  - link: { name: type, master: up, peer: dev }
              - title: deleting one end deletes the pair
                actions:
                  - link-delete: dev
                expect:
                  - link: { name: type, present: false }
            """);
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", scenario], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task A_multi_value_sysctl_is_set_checked_and_restored()
    {
        Root.Require();
        var scenario = FailureSpecs.WriteTemp("""
            lab: multi-value-sysctl
            steps:
              - title: a port range
                actions:
                  - sysctl: { key: net.ipv4.ip_local_port_range, value: "40000 50000" }
                expect:
                  - sysctl: { key: net.ipv4.ip_local_port_range, value: "40000 50000" }
            """);

        var run = await LabCli.RunAsync(["run", scenario], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("✓ net.ipv4.ip_local_port_range = 40000 50000", run.Stdout);
    }
}
