using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// `link-set` on the real kernel (the worked example of docs/ARCHITECTURE.md §11): the values are set, and teardown
/// restores the ones the link had (read before the change) before the link itself goes; nothing is left.
/// </summary>
public sealed class LinkSetSpecs
{
    [Fact]
    public async Task A_link_set_changes_the_link_and_teardown_puts_back_its_old_values()
    {
        Root.Require();
        var scenario = TestFiles.Write("""
            lab: link-set
            steps:
              - title: a veth pair, one end changed
                actions:
                  - netns-add: n1
                  - veth-add: { name: veth-1, peer: veth-2, peer-in: n1 }
                  - link-set: { name: veth-1, mtu: 1400, address: "02:00:00:00:00:01", txqueuelen: 500, alias: "shrunk for the overlay" }
                  - link-set: { name: lo, mtu: 9000, in: n1 }
                expect:
                  - command: { argv: [ip, -d, link, show, dev, veth-1], output-contains: "mtu 1400" }
                  - command: { argv: [ip, -d, link, show, dev, veth-1], output-contains: "link/ether 02:00:00:00:00:01" }
                  - command: { argv: [ip, -d, link, show, dev, veth-1], output-contains: "qlen 500" }
                  - command: { argv: [ip, -d, link, show, dev, veth-1], output-contains: "alias shrunk for the overlay" }
                  - command: { argv: [ip, link, show, dev, lo], output-contains: "mtu 9000", in: n1 }
            """);
        var transcript = Path.Combine(Path.GetDirectoryName(scenario)!, "transcript.md");
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", scenario, "--transcript", transcript], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        var teardown = File.ReadAllText(transcript).Split("## Teardown")[1];
        // Restored from what the kernel said before the change: a veth's defaults, no alias (cleared). In the sandbox the
        // links go with their namespaces, so the transcript lists these undos as not run (TeardownOrder); --host runs them.
        Assert.Matches(@"\$ ip -n lr-\w+ link set dev veth-1 mtu 1500 address (?!02:00:00:00:00:01)[0-9a-f:]{17} txqueuelen 1000 alias ''\n", teardown);
        Assert.Matches(@"\$ ip -n lr-\w+-n1 link set dev lo mtu 65536\n", teardown);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }
}
