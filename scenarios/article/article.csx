// The whole article, "Understanding container networking quickly", step by step and in order: the C# twin of
// article.yaml. Both build the same scenario model, so `labrunner plan` prints the same commands for both
// (a unit test checks it); keep the two in step.
//
//   labrunner run scenarios/article/article.csx      (validate and plan work too)
//
// A .csx lab is C#: the LabRunner.Authoring API is imported, and the script returns the lab (docs/CSHARP-LABS.md).

var lab = Lab.Named("article")
    .WithDescription("""
        Network namespaces, veth pairs, a Linux bridge, two busybox containers, a third sharing the
        first one's network namespace, and the br_netfilter toggle that makes container-to-container
        pings fail or pass.
        """)
    .WithUplink("ens3", "192.168.64.6/24")

    .Step("0 The article's host runs Docker", """
        Docker sets the iptables FORWARD policy to DROP and loads br_netfilter, so that bridged
        frames go through iptables (net.bridge.bridge-nf-call-iptables = 1).
        """, s => s
        .IptablesPolicy("FORWARD", "DROP")
        .Sysctl("net.bridge.bridge-nf-call-iptables", "1")
        .Expect.IptablesPolicy("FORWARD", "DROP"))

    // ---------- 1. veth and bridge (network namespaces only) ----------
    .Step("1.1 The host before the lab", """
        `ip a` shows lo and the uplink; `ip netns ls` shows no namespace yet.
        """, s => s
        .Expect.Link("ens3", state: "UP")
        .Expect.Address("ens3", "192.168.64.6/24")
        .Expect.Netns("n1", present: false))

    .Step("1.2 A namespace and a veth pair", """
        ip netns add n1; ip link add veth-1 type veth peer name veth-2.
        Both ends start in the host, DOWN, each shown as the other's peer (veth-2@veth-1).
        """, s => s
        .Netns("n1")
        .Veth("veth-1", "veth-2")
        .Expect.Netns("n1")
        .Expect.Link("veth-1", state: "DOWN", peer: "veth-2")
        .Expect.Link("veth-2", state: "DOWN", peer: "veth-1"))

    .Step("1.3 veth-2 moves into n1", """
        ip link set veth-2 up netns n1. veth-2 is gone from the host; veth-1 now points into n1
        (link-netns n1). In n1, lo is DOWN and veth-2 is UP but has no carrier (LOWERLAYERDOWN):
        its peer veth-1 is still down.
        """, s => s
        .MoveLink("veth-2", to: "n1", up: true)
        .Expect.Link("veth-2", present: false)
        .Expect.Link("veth-1", state: "DOWN", peer: "veth-2", peerIn: "n1")
        .Expect.Link("lo", state: "DOWN").In("n1")
        .Expect.Link("veth-2", state: "LOWERLAYERDOWN", flags: ["NO-CARRIER", "UP"]).In("n1")
        .Expect.Links(["lo", "veth-2"]).In("n1"))

    .Step("1.4 A veth end cannot be paired twice", """
        ip link add veth-3 type veth peer name veth-1 fails: veth-1 already exists.
        """, s => s
        .Veth("veth-3", "veth-1").FailsWith("RTNETLINK answers: File exists")
        .Expect.Link("veth-3", present: false))

    .Step("1.5 A bridge", """
        ip link add br-0 type bridge; brctl show lists br-0, DOWN, with no interfaces.
        """, s => s
        .Bridge("br-0")
        .Expect.Link("br-0", state: "DOWN")
        .Expect.BridgePorts("br-0", []))

    .Step("1.6 Two veth ends on the bridge", """
        ip link add veth-3 type veth peer veth-4; brctl addif br-0 veth-1; brctl addif br-0 veth-3.
        br-0 <-> veth-1 <-> veth-2 (n1), and br-0 <-> veth-3 <-> veth-4.
        """, s => s
        .Veth("veth-3", "veth-4")
        .Attach("br-0", "veth-1")
        .Attach("br-0", "veth-3")
        .Expect.BridgePorts("br-0", ["veth-1", "veth-3"])
        .Expect.Link("veth-1", master: "br-0", peerIn: "n1")
        .Expect.Link("veth-3", master: "br-0", peer: "veth-4")
        .Expect.Link("veth-4", master: "none"))

    .Step("Section 1 is removed, except br-0", """
        ip netns del n1 (which takes veth-2 and so its peer veth-1 along); ip link del veth-3 (and veth-4).
        """, s => s
        .DeleteNetns("n1")
        .DeleteLink("veth-3")
        .Expect.Netns("n1", present: false)
        .Expect.Link("veth-1", present: false)
        .Expect.Link("veth-4", present: false)
        .Expect.BridgePorts("br-0", []))

    // ---------- 2. Container <-> host ----------
    .Step("2.1 A busybox container has only lo", """
        ctr run -t -d docker.io/library/busybox:latest busybox-1; inside it `ip a` shows only lo.
        """, s => s
        .Container("busybox-1")
        .Expect.Links(["lo"]).In("busybox-1"))

    .Step("2.2 The container's task has a PID", """
        ctr task ls shows busybox-1 RUNNING with a PID; /proc/PID/net exists.
        """, s => s
        .Expect.Command(["test", "-d", "/proc/${busybox-1.pid}/net"], exitCode: 0))

    .Step("2.3 A veth pair: one end into the container by PID, the other on br-0", """
        ip link add veth-1 type veth peer name veth-2; ip link set veth-2 up netns PID;
        brctl addif br-0 veth-1; ip link set veth-1 up; ip link set br-0 up;
        ip addr add 172.16.100.1/24 dev br-0. veth-1 needs no address: on the bridge it is only a cable.
        """, s => s
        .Veth("veth-1", "veth-2")
        .MoveLink("veth-2", to: "busybox-1", up: true)
        .Attach("br-0", "veth-1")
        .LinkUp("veth-1")
        .LinkUp("br-0")
        .Address("br-0", "172.16.100.1/24")
        .Expect.Links(["lo", "veth-2"]).In("busybox-1")
        .Expect.Link("veth-1", master: "br-0", state: "UP", peer: "veth-2", peerIn: "busybox-1")
        .Expect.Link("br-0", state: "UP")
        .Expect.Address("br-0", "172.16.100.1/24"))

    .Step("2.4 ip netns cannot see the container's namespace", """
        ip netns exec PID ip a fails: ip netns only looks in /var/run/netns.
        """, s => s
        .Command(["ip", "netns", "exec", "${busybox-1.pid}", "ip", "a"], undo: null)
            .FailsWith("Cannot open network namespace \"${busybox-1.pid}\": No such file or directory")
        .Expect.NetnsSymlink("busybox-1", present: false))

    .Step("2.5 Link the namespace into /var/run/netns", """
        ln -s /proc/PID/ns/net /var/run/netns/PID; ip netns ls lists it.
        The article warns: remove the link when done (teardown does).
        """, s => s
        .NetnsSymlink("busybox-1")
        .Expect.NetnsSymlink("busybox-1"))

    .Step("2.6 Address and default route inside the container", """
        ip netns exec PID ip addr add 172.16.100.101/24 dev veth-2;
        ip netns exec PID ip route add default dev veth-2.
        """, s => s
        .Command(["ip", "netns", "exec", "${busybox-1.pid}", "ip", "addr", "add", "172.16.100.101/24", "dev", "veth-2"],
                 undo: ["ip", "netns", "exec", "${busybox-1.pid}", "ip", "addr", "del", "172.16.100.101/24", "dev", "veth-2"])
        .Route("default", dev: "veth-2").In("busybox-1")
        .Expect.Address("veth-2", "172.16.100.101/24").In("busybox-1")
        .Expect.Route("default", dev: "veth-2").In("busybox-1"))

    .Step("2.7 busybox-1 reaches br-0 and the host's uplink", """
        In busybox-1: veth-2 is UP,LOWER_UP with 172.16.100.101/24; ping 172.16.100.1 and
        ping 192.168.64.6 both answer.
        """, s => s
        .Expect.Link("veth-2", state: "UP", flags: ["UP", "LOWER_UP"]).In("busybox-1")
        .Expect.Ping(from: "busybox-1", to: "172.16.100.1")
        .Expect.Ping(from: "busybox-1", to: "${uplink.ip}"))

    // ---------- 3. Container <-> container ----------
    .Step("3.1 busybox-2 on br-0", """
        ctr run ... busybox-2; ip link add veth-3 type veth peer veth-4; ip link set veth-4 up netns PID;
        ip link set veth-3 up; ln -s /proc/PID/ns/net /var/run/netns/PID;
        ip netns exec PID ip addr add 172.16.100.102/24 dev veth-4; brctl addif br-0 veth-3.
        """, s => s
        .Container("busybox-2")
        .Veth("veth-3", "veth-4")
        .MoveLink("veth-4", to: "busybox-2", up: true)
        .LinkUp("veth-3")
        .NetnsSymlink("busybox-2")
        .Address("veth-4", "172.16.100.102/24").In("busybox-2")
        .Attach("br-0", "veth-3")
        .Expect.BridgePorts("br-0", ["veth-1", "veth-3"])
        .Expect.Address("veth-4", "172.16.100.102/24").In("busybox-2"))

    .Step("3.2 busybox-2 cannot reach busybox-1", """
        In busybox-2: ping 172.16.100.101 gives 100% packet loss.
        """, s => s
        .Expect.Ping(from: "busybox-2", to: "172.16.100.101").Fails())

    .Step("3.3 busybox-2 reaches br-0", s => s
        .Expect.Ping(from: "busybox-2", to: "172.16.100.1"))

    .Step("3.4 ARP is correct", """
        In busybox-2, arp -a: 172.16.100.1 is at br-0's MAC and 172.16.100.101 at busybox-1's veth-2 MAC.
        Layer 2 works; something filters the ICMP.
        """, s => s
        .Expect.Neighbor("172.16.100.1", macOf: "br-0").In("busybox-2")
        .Expect.Neighbor("172.16.100.101", macOf: "veth-2", macOfIn: "busybox-1").In("busybox-2"))

    .Step("3.5 tcpdump: the echo requests cross br-0 but never reach veth-2", """
        tcpdump -n -i br-0; ip netns exec PID-2 tcpdump -n -i veth-4; ip netns exec PID-1 tcpdump -n -i veth-2,
        while busybox-2 pings busybox-1: br-0 and veth-4 see the ICMP echo requests, veth-2 never does
        (all three see the ARP request and reply when busybox-2's neighbour entry needs refreshing).
        Layer 2 works; something between the bridge ports filters.
        """, s => s
        .Expect.Capture(pingFrom: "busybox-2", pingTo: "172.16.100.101", on:
        [
            new CaptureOn("br-0", Sees: ["icmp[icmptype] == icmp-echo and src host 172.16.100.102"]),
            new CaptureOn("veth-4", In: "busybox-2", Sees: ["icmp[icmptype] == icmp-echo"]),
            new CaptureOn("veth-2", In: "busybox-1", Never: ["icmp"]),
        ]))

    .Step("3.6 br_netfilter sends bridged frames through iptables", """
        sysctl net.bridge.bridge-nf-call-iptables = 1, and iptables' FORWARD policy (set by Docker) is DROP.
        The article warns: on a Kubernetes node this must stay 1.
        """, s => s
        .Expect.Sysctl("net.bridge.bridge-nf-call-iptables", "1")
        .Expect.IptablesPolicy("FORWARD", "DROP"))

    .Step("3.7 Bridged frames no longer go through iptables", """
        sysctl -w net.bridge.bridge-nf-call-arptables=0, ...-ip6tables=0, ...-iptables=0
        (teardown restores the old values).
        """, s => s
        .Sysctl("net.bridge.bridge-nf-call-arptables", "0")
        .Sysctl("net.bridge.bridge-nf-call-ip6tables", "0")
        .Sysctl("net.bridge.bridge-nf-call-iptables", "0")
        .Expect.Sysctl("net.bridge.bridge-nf-call-iptables", "0"))

    .Step("3.8 busybox-2 reaches busybox-1", """
        The same ping, and now tcpdump on veth-2 sees the echo requests and busybox-1's replies.
        """, s => s
        .Expect.Ping(from: "busybox-2", to: "172.16.100.101")
        .Expect.Capture(pingFrom: "busybox-2", pingTo: "172.16.100.101", on:
        [
            new CaptureOn("veth-2", In: "busybox-1", Sees: ["icmp[icmptype] == icmp-echo", "icmp[icmptype] == icmp-echoreply"]),
        ]))

    // ---------- 4. Containers sharing one network namespace (a Kubernetes pod) ----------
    .Step("4.1 busybox-3 joins busybox-1's network namespace", """
        ctr run -t -d --with-ns network:/var/run/netns/PID docker.io/library/busybox:latest busybox-3
        """, s => s
        .Container("busybox-3", netnsOf: "busybox-1")
        .Expect.Links(["lo", "veth-2"]).In("busybox-3"))

    .Step("4.2 Same veth-2, same MAC, same address; busybox-3 reaches busybox-2", """
        In busybox-3: ip a shows busybox-1's veth-2 with its MAC and 172.16.100.101; ping 172.16.100.102 answers.
        """, s => s
        .Expect.Address("veth-2", "172.16.100.101/24").In("busybox-3")
        .Expect.Link("veth-2", state: "UP", macOf: "veth-2", macOfIn: "busybox-1").In("busybox-3")
        .Expect.Ping(from: "busybox-3", to: "172.16.100.102")
        .Expect.Neighbor("172.16.100.101", macOf: "veth-2", macOfIn: "busybox-3").In("busybox-2")
        .Expect.Neighbor("172.16.100.101", macOf: "veth-2", macOfIn: "busybox-1").In("busybox-2"));

return lab;
