namespace LabRunner.Tests.Regression;

/// <summary>
/// The article's observations, against one live article lab (<see cref="ArticleLab"/>): built once for the
/// class, every step's expectations checked while building, torn down after the last test.
/// </summary>
public sealed class ArticleSpecs(ArticleLab lab) : IClassFixture<ArticleLab>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [LabFact]
    public void Every_step_of_the_article_held_while_the_lab_was_built()
    {
        // The scenario's own steps come first; other tests of this class may have run steps of their own since.
        var built = lab.Live.Outcomes.Take(lab.Scenario.Steps.Length).ToList();

        Assert.Equal(lab.Scenario.Steps.Select(s => s.Title), built.Select(o => o.Step.Title));
        Assert.All(built, o => Assert.True(o.Passed, string.Join("\n", o.Failures)));
        Assert.Contains(built, o => o.Checks.Any(c => c.Expectation is PingExpectation { Succeeds: false } && c.Result.Held));
    }

    [LabTheory]
    [InlineData("busybox-1")]
    [InlineData("busybox-2")]
    [InlineData("busybox-3")]
    public async Task Every_container_reaches_the_bridge_and_the_hosts_uplink(string container) =>
        await lab.ExpectAsync(e => e
            .Ping(from: container, to: ArticleLab.BridgeIp)
            .Expect.Ping(from: container, to: "${uplink.ip}"), Ct);

    [LabFact]
    public async Task Busybox_3_sees_busybox_1s_veth_2_with_the_same_MAC_it_is_one_namespace() =>
        await lab.ExpectAsync(e => e
            .Link("veth-2", state: "UP", macOf: "veth-2", macOfIn: "busybox-1").In("busybox-3")
            .Expect.Neighbor("172.16.100.101", macOf: "veth-2", macOfIn: "busybox-3").In("busybox-2"), Ct);

    [LabFact]
    public async Task With_bridge_nf_call_iptables_back_at_1_the_FORWARD_DROP_policy_blocks_the_containers_again()
    {
        await lab.RunStepAsync("br_netfilter on again", s => ArticleLab.BridgeNetfilter(s, "1")
            .Expect.Ping(from: "busybox-2", to: "172.16.100.101").Fails()
            .Expect.Ping(from: "busybox-2", to: ArticleLab.BridgeIp), Ct);

        // Back as the other tests of this class expect it (teardown restores the machine's own value anyway).
        await lab.RunStepAsync("br_netfilter off", s => ArticleLab.BridgeNetfilter(s, "0")
            .Expect.Ping(from: "busybox-2", to: "172.16.100.101"), Ct);
    }

    [LabFact]
    public void Busybox_3_is_a_process_of_its_own_in_busybox_1s_network_namespace()
    {
        string NetnsOf(string name) => new FileInfo($"/proc/{lab.Session.Container(name).Pid}/ns/net").LinkTarget!;

        Assert.NotEqual(lab.Session.Container("busybox-1").Pid, lab.Session.Container("busybox-3").Pid);
        Assert.Equal(NetnsOf("busybox-1"), NetnsOf("busybox-3"));
        Assert.NotEqual(NetnsOf("busybox-1"), NetnsOf("busybox-2"));
        Assert.StartsWith("lr-", lab.Session.HostNetns); // a sandbox: the machine's own namespace is not touched
    }
}
