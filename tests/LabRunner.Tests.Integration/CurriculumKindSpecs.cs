using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The first curriculum kinds on the real kernel, with --host inside an outer namespace of the test's own (so what they
/// change is a host's, not a sandbox that teardown deletes anyway): `iptables-rule` with a user chain, `masquerade`
/// and `publish`. After the run the outer namespace is as before: rules, chains and sysctls as they were.
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

    [Fact]
    public async Task Masquerade_lets_a_namespace_behind_the_host_reach_one_that_has_no_route_back_and_publish_adds_its_rules()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var lab = TestFiles.Write("""
            lab: nat-kinds
            steps:
              - title: n1 behind the host, n2 beyond it, the host forwards; n2 has no route back to n1
                actions:
                  - netns-add: n1
                  - netns-add: n2
                  - veth-add: { name: lrc-v1, peer: lrc-v2, peer-in: n1 }
                  - veth-add: { name: lrc-w1, peer: lrc-w2, peer-in: n2 }
                  - address-add: { dev: lrc-v1, address: 10.9.0.1/24 }
                  - address-add: { dev: lrc-v2, address: 10.9.0.2/24, in: n1 }
                  - address-add: { dev: lrc-w1, address: 10.8.0.1/24 }
                  - address-add: { dev: lrc-w2, address: 10.8.0.2/24, in: n2 }
                  - link-up: lrc-v1
                  - link-up: lrc-w1
                  - link-up: { name: lrc-v2, in: n1 }
                  - link-up: { name: lrc-w2, in: n2 }
                  - route-add: { to: default, via: 10.9.0.1, in: n1 }
                  - sysctl: { key: net.ipv4.ip_forward, value: "1" }
                expect:
                  - ping: { from: n1, to: 10.8.0.2, succeeds: false }
              - title: masquerading n1's subnet out of lrc-w1, n2 answers the host's address
                actions:
                  - masquerade: { source: 10.9.0.0/24, out: lrc-w1 }
                expect:
                  - ping: { from: n1, to: 10.8.0.2 }
                  - capture:
                      while: { ping: { from: n1, to: 10.8.0.2, count: 3 } }
                      on:
                        - { link: lrc-w2, in: n2, sees: ["icmp and src host 10.8.0.1"] }
              - title: port 8080 of the host published on n1's port 80
                actions:
                  - publish: { port: 8080, to: 10.9.0.2, to-port: 80 }
                expect:
                  - command: { argv: [iptables, -t, nat, -S, PREROUTING], output-contains: "--to-destination 10.9.0.2:80" }
                  - command: { argv: [iptables, -S, FORWARD], output-contains: "-A FORWARD -d 10.9.0.2/32 -p tcp -m tcp --dport 80 -j ACCEPT" }
            """);
        var snapshot = new SnapshotOptions { AlsoNamespaces = [_host.Name] };
        var before = HostSnapshot.Take(snapshot);

        var run = await LabCli.RunAsync(["run", "--host", lab], prefix: _host.Enter, ct: ct);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(before.Diff(HostSnapshot.Take(snapshot)));
    }
}
