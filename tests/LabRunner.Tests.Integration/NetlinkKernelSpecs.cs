using System.Net;
using System.Net.Sockets;
using LabRunner.Engine;
using LabRunner.Platform;
using LabRunner.Platform.Netlink;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The netlink socket against the kernel, as root, only ever inside network namespaces these tests make for
/// themselves (<see cref="PrivateNetns"/>: anonymous, unnamed, gone with their descriptor and thread). No socket here is
/// opened in the test process's own namespace, so the machine's links, addresses and routes are never touched, and
/// each namespace is checked to hold nothing but lo before anything is made in it.
/// </summary>
public sealed class NetlinkKernelSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void RequireRoot() =>
        Assert.SkipUnless(Processes.IsRoot && PrivateNetns.CanCreate, "needs root (unshare(CLONE_NEWNET) for a private network namespace)");

    /// <summary>A socket in <paramref name="ns"/>, after checking that it holds nothing but lo.</summary>
    private static async Task<NetlinkSocket> OpenFreshAsync(PrivateNetns ns)
    {
        var socket = NetlinkSocket.OpenIn(ns.Path, "private");
        var links = await socket.LinksAsync(Ct);
        if (links is not [{ Name: "lo" }])
        {
            socket.Dispose();
            Assert.Fail($"the private namespace is not fresh: {string.Join(", ", links.Select(l => l.Name))}");
        }
        return socket;
    }

    [Fact]
    public async Task A_veth_whose_peer_is_made_in_another_namespace_is_seen_from_both_ends()
    {
        RequireRoot();
        using var a = PrivateNetns.Create();
        using var b = PrivateNetns.Create();
        using var sa = await OpenFreshAsync(a);
        using var sb = await OpenFreshAsync(b);

        await sa.ExecuteAsync(Rtnl.AddVeth("veth-a", "veth-b", NetnsRef.Fd(b.Fd)), Ct);

        var here = await sa.LinkAsync("veth-a", Ct);
        var there = await sb.LinkAsync("veth-b", Ct);
        Assert.Equal(("veth", "veth"), (here.Kind, there.Kind));
        Assert.Equal(there.Index, here.LinkIndex);
        Assert.Equal(here.Index, there.LinkIndex);
        Assert.NotNull(here.LinkNetnsId);   // the peer is elsewhere: the kernel names that namespace by an id
        Assert.NotNull(there.LinkNetnsId);
        Assert.Null(await sa.FindLinkAsync("veth-b", Ct));
        Assert.Equal(new[] { "lo", "veth-a" }, (await sa.LinksAsync(Ct)).Select(l => l.Name));
    }

    [Fact]
    public async Task Links_bridge_ports_addresses_and_routes_are_made_read_back_and_removed()
    {
        RequireRoot();
        using var ns = PrivateNetns.Create();
        using var s = await OpenFreshAsync(ns);

        await s.ExecuteAsync(Rtnl.SetUp("lo"), Ct);
        await s.ExecuteAsync(Rtnl.AddBridge("br0"), Ct);
        await s.ExecuteAsync(Rtnl.AddVeth("veth-1", "veth-2"), Ct);
        var br0 = await s.LinkAsync("br0", Ct);
        await s.ExecuteAsync(Rtnl.SetMaster("veth-1", br0.Index), Ct);
        await s.ExecuteAsync(Rtnl.SetLink("veth-2", new LinkSettings { Up = true, Mtu = 1400, Address = "02:00:00:00:00:02", TxQueueLength = 500, Alias = "the peer" }), Ct);
        await s.ExecuteAsync(Rtnl.SetUp("br0"), Ct);
        await s.ExecuteAsync(Rtnl.SetUp(LinkRef.ByIndex((await s.LinkAsync("veth-1", Ct)).Index)), Ct);

        var links = (await s.LinksAsync(Ct)).ToDictionary(l => l.Name);
        var (v1, v2) = (links["veth-1"], links["veth-2"]);
        Assert.Equal((br0.Index, "veth", "bridge", true), (v1.MasterIndex, v1.Kind, v1.SlaveKind, v1.IsUp));
        Assert.Equal((1400, "02:00:00:00:00:02", 500u, "the peer", true), (v2.Mtu, v2.Address, v2.TxQueueLength, v2.Alias, v2.IsUp));
        Assert.Equal((v2.Index, v1.Index, (int?)null), (v1.LinkIndex, v2.LinkIndex, v1.LinkNetnsId));
        Assert.Equal("bridge", links["br0"].Kind);

        await s.ExecuteAsync(Rtnl.AddAddress(v2.Index, IPAddress.Parse("10.0.0.1"), 24, "veth-2"), Ct);
        await s.ExecuteAsync(Rtnl.AddAddress(v2.Index, IPAddress.Parse("fd00::1"), 64, "veth-2"), Ct);
        await s.ExecuteAsync(Rtnl.AddRoute(IPNetwork.Parse("10.9.0.0/16"), IPAddress.Parse("10.0.0.254")), Ct);
        await s.ExecuteAsync(Rtnl.AddRoute(null, IPAddress.Parse("10.0.0.254")), Ct);
        await s.ExecuteAsync(Rtnl.AddRoute(IPNetwork.Parse("10.8.0.0/16"), outputIndex: v2.Index), Ct);

        var addresses = await s.AddressesAsync(cancellationToken: Ct);
        Assert.Contains(addresses, x => x.Index == v2.Index && x.Cidr == "10.0.0.1/24");
        Assert.Contains(addresses, x => x.Index == v2.Index && x.Cidr == "fd00::1/64");
        var main = (await s.RoutesAsync(AddressFamily.InterNetwork, Ct)).Where(r => r.Table == RouteConstants.TableMain).ToList();
        Assert.Contains(main, r => r.IsDefault && Equals(r.Gateway, IPAddress.Parse("10.0.0.254")) && r.OutputIndex == v2.Index);
        Assert.Contains(main, r => r.Display == "10.9.0.0/16" && Equals(r.Gateway, IPAddress.Parse("10.0.0.254")));
        Assert.Contains(main, r => r.Display == "10.8.0.0/16" && r.Gateway is null && r.Scope == RouteConstants.ScopeLink);
        Assert.Contains(main, r => r.Display == "10.0.0.0/24" && r.Protocol == RouteConstants.ProtocolKernel);

        await s.ExecuteAsync(Rtnl.DeleteRoute(IPNetwork.Parse("10.8.0.0/16"), outputIndex: v2.Index), Ct);
        await s.ExecuteAsync(Rtnl.DeleteAddress(v2.Index, IPAddress.Parse("fd00::1"), 64, "veth-2"), Ct);
        await s.ExecuteAsync(Rtnl.SetNoMaster("veth-1"), Ct);
        Assert.DoesNotContain(await s.RoutesAsync(AddressFamily.InterNetwork, Ct), r => r.Display == "10.8.0.0/16");
        Assert.DoesNotContain(await s.AddressesAsync(AddressFamily.InterNetworkV6, Ct), x => x.Cidr == "fd00::1/64");
        Assert.Null((await s.LinkAsync("veth-1", Ct)).MasterIndex);

        await s.ExecuteAsync(Rtnl.DeleteLink("veth-1"), Ct);  // takes its peer along
        Assert.Equal(new[] { "lo", "br0" }, (await s.LinksAsync(Ct)).Select(l => l.Name));
    }

    [Fact]
    public async Task A_vxlan_is_made_with_its_id_remote_local_device_and_port()
    {
        RequireRoot();
        using var ns = PrivateNetns.Create();
        using var s = await OpenFreshAsync(ns);
        await s.ExecuteAsync(Rtnl.AddVeth("underlay", "underlay-peer"), Ct);
        var dev = await s.LinkAsync("underlay", Ct);

        await s.ExecuteAsync(Rtnl.AddVxlan("vx0", new VxlanSpec(42, 4789, IPAddress.Parse("10.0.0.2"), IPAddress.Parse("10.0.0.1"), dev.Index)), Ct);

        Assert.Equal("vxlan", (await s.LinkAsync("vx0", Ct)).Kind);
        Assert.SkipWhen(Tool("ip") is null || Tool("nsenter") is null, "needs ip and nsenter to read the vxlan's details");
        var details = IpIn(ns, "-d", "link", "show", "vx0").Output;
        Assert.Contains("vxlan id 42 remote 10.0.0.2 local 10.0.0.1 dev underlay", details);
        Assert.Contains("dstport 4789", details);
    }

    [Fact]
    public async Task A_link_moves_to_another_namespace_named_by_process_or_by_descriptor()
    {
        RequireRoot();
        using var a = PrivateNetns.Create();
        using var b = PrivateNetns.Create();
        using var sa = await OpenFreshAsync(a);
        using var sb = await OpenFreshAsync(b);
        await sa.ExecuteAsync(Rtnl.AddVeth("veth-1", "veth-2"), Ct);

        b.CheckTidIsInside();
        await sa.ExecuteAsync(Rtnl.MoveToNetns("veth-2", NetnsRef.Pid(b.Tid)), Ct);  // the thread that holds b
        Assert.Equal(new[] { "lo", "veth-1" }, (await sa.LinksAsync(Ct)).Select(l => l.Name));
        Assert.Equal(new[] { "lo", "veth-2" }, (await sb.LinksAsync(Ct)).Select(l => l.Name));

        await sb.ExecuteAsync(Rtnl.MoveToNetns("veth-2", NetnsRef.Fd(a.Fd)), Ct);
        Assert.Equal(new[] { "lo" }, (await sb.LinksAsync(Ct)).Select(l => l.Name));
        Assert.Contains(await sa.LinksAsync(Ct), l => l.Name == "veth-2");
    }

    [Fact]
    public async Task Refusals_read_exactly_as_ip_prints_them_for_the_same_command()
    {
        RequireRoot();
        Assert.SkipWhen(Tool("ip") is null || Tool("nsenter") is null, "needs ip and nsenter to compare with");
        using var ns = PrivateNetns.Create();
        using var s = await OpenFreshAsync(ns);
        await s.ExecuteAsync(Rtnl.AddVeth("veth-1", "veth-2"), Ct);
        await s.ExecuteAsync(Rtnl.SetUp("veth-1"), Ct);
        var index = (await s.LinkAsync("veth-1", Ct)).Index;
        await s.ExecuteAsync(Rtnl.AddAddress(index, IPAddress.Parse("10.0.0.1"), 24, "veth-1"), Ct);
        await s.ExecuteAsync(Rtnl.AddRoute(IPNetwork.Parse("10.9.0.0/16"), IPAddress.Parse("10.0.0.254")), Ct);

        async Task Same(NetlinkRequest request, params string[] ip)
        {
            var ours = await Assert.ThrowsAsync<NetlinkException>(() => s.ExecuteAsync(request, Ct));
            var theirs = IpIn(ns, ip);
            Assert.NotEqual(0, theirs.ExitCode);
            Assert.Equal(theirs.Output, ours.Message);
        }

        await Same(Rtnl.AddVeth("veth-1", "veth-9"), "link", "add", "veth-1", "type", "veth", "peer", "name", "veth-9");
        await Same(Rtnl.AddAddress(index, IPAddress.Parse("10.0.0.1"), 24, "veth-1"), "addr", "add", "10.0.0.1/24", "dev", "veth-1");
        await Same(Rtnl.AddRoute(IPNetwork.Parse("10.9.0.0/16"), IPAddress.Parse("10.0.0.254")), "route", "add", "10.9.0.0/16", "via", "10.0.0.254");
        await Same(Rtnl.AddRoute(IPNetwork.Parse("10.7.0.0/16"), IPAddress.Parse("192.0.2.1")), "route", "add", "10.7.0.0/16", "via", "192.0.2.1");
        await Same(Rtnl.DeleteRoute(IPNetwork.Parse("10.8.0.0/16"), outputIndex: index), "route", "del", "10.8.0.0/16", "dev", "veth-1");
        await Same(Rtnl.DeleteLink("nosuch"), "link", "del", "nosuch");
        await Same(Rtnl.SetUp("nosuch"), "link", "set", "nosuch", "up");
    }

    [Fact]
    public async Task A_missing_link_is_null_or_Cannot_find_device_and_a_cancelled_call_sends_nothing()
    {
        RequireRoot();
        using var ns = PrivateNetns.Create();
        using var s = await OpenFreshAsync(ns);

        Assert.Null(await s.FindLinkAsync("nosuch", Ct));
        var e = await Assert.ThrowsAsync<NetlinkException>(() => s.LinkAsync("nosuch", Ct));
        Assert.Equal("Cannot find device \"nosuch\"", e.Message);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => s.ExecuteAsync(Rtnl.AddBridge("br0"), new CancellationToken(canceled: true)));
        Assert.Null(await s.FindLinkAsync("br0", Ct));   // not sent, and the socket still answers
    }

    [Fact]
    public async Task A_dump_longer_than_one_datagram_is_read_to_its_end()
    {
        RequireRoot();
        using var ns = PrivateNetns.Create();
        using var s = await OpenFreshAsync(ns);
        for (var i = 0; i < 40; i++) await s.ExecuteAsync(Rtnl.AddVeth($"v{i}a", $"v{i}b"), Ct);  // ~1 KiB a link: several 32 KiB datagrams

        var links = await s.LinksAsync(Ct);

        Assert.Equal(81, links.Count);
        Assert.Equal(links.Count, links.Select(l => l.Index).Distinct().Count());
    }

    [Fact]
    public void A_namespace_that_does_not_exist_reads_as_ip_n_says_it()
    {
        var e = Assert.Throws<NetlinkException>(() => NetlinkSocket.OpenIn("/var/run/netns/lr-netlink-spec-nosuch", "lr-netlink-spec-nosuch"));

        Assert.Equal("Cannot open network namespace \"lr-netlink-spec-nosuch\": No such file or directory", e.Message);
    }

    private static string? Tool(string name) => EnvironmentCheck.FindOnPath(name);

    /// <summary>`ip ARGS` inside <paramref name="ns"/>: its exit code and what it printed.</summary>
    private static (int ExitCode, string Output) IpIn(PrivateNetns ns, params string[] args)
    {
        var (code, stdout, stderr) = ns.Ip(args);
        return (code, (stdout + stderr).Trim());
    }
}
