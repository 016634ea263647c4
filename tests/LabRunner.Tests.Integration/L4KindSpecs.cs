using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// `serve`, `connect` and `http` on the real kernel: servers in a namespace and in a container, a refused and a
/// dropped connection told apart, an echo; after the run nothing is left (the servers were lab processes).
/// </summary>
public sealed class L4KindSpecs
{
    [Fact]
    public async Task Servers_answer_a_policy_drops_or_refuses_and_teardown_stops_every_server()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var lab = TestFiles.Write("""
            lab: l4
            steps:
              - title: n1 and n2 on a veth pair, and a container c1 on another
                actions:
                  - netns-add: n1
                  - netns-add: n2
                  - veth-add: { name: a, in: n1, peer: b, peer-in: n2 }
                  - address-add: { in: n1, dev: a, address: 10.7.0.1/24 }
                  - address-add: { in: n2, dev: b, address: 10.7.0.2/24 }
                  - link-up: { in: n1, name: a }
                  - link-up: { in: n2, name: b }
                  - container-run: c1
                  - veth-add: { name: c, in: n1, peer: eth0, peer-in: c1 }
                  - address-add: { in: n1, dev: c, address: 10.6.0.1/24 }
                  - address-add: { in: c1, dev: eth0, address: 10.6.0.2/24 }
                  - link-up: { in: n1, name: c }
                  - link-up: { in: c1, name: eth0 }
              - title: nothing listens yet
                expect:
                  - connect: { from: n1, to: 10.7.0.2, port: 80, result: refused }
              - title: servers in n2 and in c1
                actions:
                  - serve: { app: http, port: 80, page: "hello from n2", in: n2 }
                  - serve: { app: echo, port: 7, in: n2 }
                  - serve: { app: http, port: 8080, page: "hello from c1", in: c1 }
                expect:
                  - http: { from: n1, url: "http://10.7.0.2/", body-contains: "hello from n2" }
                  - http: { from: n1, url: "http://10.7.0.2/missing", status: 404 }
                  - connect: { from: n1, to: 10.7.0.2, port: 7, send: ping-7, receive: ping-7 }
                  - http: { from: n1, url: "http://10.6.0.2:8080/", body-contains: "hello from c1" }
                  - connect: { from: c1, to: 10.6.0.1, port: 22, result: refused }
              - title: n2 drops port 80 and rejects port 7
                actions:
                  - iptables-rule: { in: n2, chain: INPUT, rule: [-p, tcp, --dport, "80", -j, DROP] }
                  - iptables-rule: { in: n2, chain: INPUT, rule: [-p, tcp, --dport, "7", -j, REJECT, --reject-with, tcp-reset] }
                expect:
                  - connect: { from: n1, to: 10.7.0.2, port: 80, result: timed-out }
                  - connect: { from: n1, to: 10.7.0.2, port: 7, result: refused }
            """);
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", lab], ct: ct);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }
}
