using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The first curriculum kinds on the real kernel, with --host inside an outer namespace of the test's own (so what they
/// change is a host's, not a sandbox that teardown deletes anyway): `iptables-rule` with a user chain. After the run
/// the outer namespace is as before: rules and chain gone.
/// </summary>
public sealed class CurriculumKindSpecs : IAsyncLifetime
{
    private readonly OuterHost _host = new("lrc");

    public async ValueTask InitializeAsync() => await _host.CreateAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Rules_and_a_chain_of_the_labs_own_change_the_host_and_are_all_undone()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var lab = TestFiles.Write("""
            lab: curriculum-kinds
            steps:
              - title: a namespace behind a veth pair
                actions:
                  - netns-add: n1
                  - veth-add: { name: lrc-v1, peer: lrc-v2, peer-in: n1 }
                  - address-add: { dev: lrc-v1, address: 10.9.0.1/24 }
                  - address-add: { dev: lrc-v2, address: 10.9.0.2/24, in: n1 }
                  - link-up: lrc-v1
                  - link-up: { name: lrc-v2, in: n1 }
                expect:
                  - ping: { from: host, to: 10.9.0.2 }
              - title: the host drops its pings to n1 through a chain of its own
                actions:
                  - iptables-rule: { chain: LRC-OUT, rule: [-p, icmp, -j, DROP] }
                  - iptables-rule: { chain: OUTPUT, rule: [-o, lrc-v1, -j, LRC-OUT], insert: true }
                expect:
                  - ping: { from: host, to: 10.9.0.2, succeeds: false }
                  - command: { argv: [iptables, -S, LRC-OUT], output-contains: "-A LRC-OUT -p icmp -j DROP" }
            """);
        var snapshot = new SnapshotOptions { AlsoNamespaces = [_host.Name] };
        var before = HostSnapshot.Take(snapshot);

        var run = await LabCli.RunAsync(["run", "--host", lab], prefix: _host.Enter, ct: ct);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(before.Diff(HostSnapshot.Take(snapshot)));
    }
}
