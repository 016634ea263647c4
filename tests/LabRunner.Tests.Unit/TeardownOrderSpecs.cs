using LabRunner.Engine;
using LabRunner.Journal;

namespace LabRunner.Tests.Unit;

/// <summary>The teardown's phases: what runs first, what goes with its namespace, the containers, the namespaces.</summary>
public sealed class TeardownOrderSpecs
{
    private static UndoCommand Cmd(params string[] argv) => new("undo", argv, [], null);

    private static UndoCommand DeleteNetns(string name) =>
        new($"delete netns {name}", ["ip", "netns", "delete", name], [], null) { Resource = ResourceRef.ForNetns(name) };

    [Fact]
    public void A_command_in_a_namespace_the_teardown_deletes_is_settled_and_one_in_another_runs()
    {
        var inLab = Cmd("ip", "-n", "lr-ab12cd-n1", "link", "delete", "dev", "veth-2");
        var inReleased = Cmd("ip", "-n", "lr-ab12cd-n2", "link", "delete", "dev", "veth-9"); // its netns record was released
        var inCaller = Cmd("ip", "link", "delete", "dev", "veth-1");
        var iptables = Cmd("ip", "netns", "exec", "lr-ab12cd", "iptables", "-t", "nat", "-D", "POSTROUTING", "-j", "MASQUERADE");
        var order = TeardownOrder.Of([inLab, inReleased, inCaller, iptables, DeleteNetns("lr-ab12cd-n1"), DeleteNetns("lr-ab12cd")]);

        Assert.Equal([inLab, iptables], order.Settled);
        Assert.Equal([inReleased, inCaller], order.First);
        Assert.Equal(["lr-ab12cd-n1", "lr-ab12cd"], order.Namespaces.Select(n => n.Resource!.Name));
    }

    [Fact]
    public void A_sysctl_is_never_settled_because_some_are_global()
    {
        var sysctl = Cmd("ip", "netns", "exec", "lr-ab12cd", "sysctl", "-w", "net.ipv4.ip_forward=0");
        var inContainer = Cmd("nsenter", "-t", "4242", "-n", "sysctl", "-w", "net.ipv4.ip_forward=0");

        var order = TeardownOrder.Of([sysctl, inContainer, DeleteNetns("lr-ab12cd")]);

        Assert.Equal([sysctl, inContainer], order.First);
        Assert.Empty(order.Settled);
    }

    [Fact]
    public void A_command_in_a_containers_namespace_is_settled_by_its_removal_never_run_on_a_pid_that_may_be_reused()
    {
        var link = Cmd("nsenter", "-t", "4242", "-n", "ip", "link", "delete", "dev", "eth0");
        var container = new UndoRemoveContainer("stop container c1", "process", "ab12cd/c1");
        var symlink = new UndoUnlink("remove /var/run/netns/4242", "/var/run/netns/4242", "/proc/4242/ns/net");

        var order = TeardownOrder.Of([link, symlink, container]);

        Assert.Equal([link], order.Settled);
        Assert.Equal([symlink], order.First);
        Assert.Equal([container], order.Containers);
    }

    [Fact]
    public void Two_equal_records_both_stay_in_their_phase()
    {
        var first = Cmd("ip", "netns", "exec", "lr-ab12cd", "sysctl", "-w", "net.bridge.bridge-nf-call-iptables=1");
        var second = Cmd("ip", "netns", "exec", "lr-ab12cd", "sysctl", "-w", "net.bridge.bridge-nf-call-iptables=1");

        var order = TeardownOrder.Of([first, second]);

        Assert.Equal(2, order.First.Count);
        Assert.Same(first, order.First[0]);
        Assert.Same(second, order.First[1]);
    }
}
