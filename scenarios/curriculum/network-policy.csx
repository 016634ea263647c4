// The network-policy lab in C#: the twin of network-policy.yaml (a unit test checks that both build the same model;
// keep the two in step). A .csx lab is C#: the LabRunner.Authoring API is imported, and the script returns the lab.
//
//   labrunner run scenarios/curriculum/network-policy.csx

// The policy's rules, named once: the lab adds them and asks for their counters by the same words.
string[] acceptC1 = ["-s", "172.16.0.1", "-p", "tcp", "--dport", "80", "-j", "ACCEPT"];
string[] dropC3 = ["-s", "172.16.0.3", "-j", "DROP"];
string[] defaultDeny = ["-j", "DROP"];

var lab = Lab.Named("curriculum-network-policy")
    .WithDescription("""
        Three containers on one bridge; c2 runs a web server. A network policy for c2, as Kubernetes' policy engines
        write it into the host's FORWARD chain: a chain of c2's own that accepts c1 on port 80 and drops c3. Each
        rule's packet counter says which rule decided: c1's connection counts on the ACCEPT, c3's on the DROP. A policy
        without a final DROP still lets everything else in (c1's ping); the default-deny rule closes that.
        """)
    .WithUplink("ens3", "192.168.64.6/24")

    .Step("1 Three containers on br-0, bridged frames through iptables", """
        net.bridge.bridge-nf-call-iptables = 1 (br_netfilter, as on every Kubernetes node): frames the bridge passes
        between its ports go through the host's filter FORWARD chain, where a policy can judge them.
        """, s =>
    {
        s = s.Sysctl("net.bridge.bridge-nf-call-iptables", "1").Bridge("br-0").LinkUp("br-0")
            .Container("c1").Container("c2").Container("c3");
        foreach (var n in new[] { 1, 2, 3 }) s = s.Veth($"veth-{n}", "eth0", peerIn: $"c{n}");
        foreach (var n in new[] { 1, 2, 3 }) s = s.Attach("br-0", $"veth-{n}");
        foreach (var n in new[] { 1, 2, 3 }) s = s.LinkUp($"veth-{n}");
        foreach (var n in new[] { 1, 2, 3 }) s = s.Address("eth0", $"172.16.0.{n}/24").In($"c{n}");
        foreach (var n in new[] { 1, 2, 3 }) s = s.LinkUp("eth0").In($"c{n}");
        return s
            .Expect.Ping(from: "c1", to: "172.16.0.2")
            .Expect.Ping(from: "c3", to: "172.16.0.2");
    })

    .Step("2 A web server in c2: everyone reaches it", s => s
        .Serve("http", 80, page: "c2 serves").In("c2")
        .Expect.Connect("c1", "172.16.0.2", 80)
        .Expect.Connect("c3", "172.16.0.2", 80))

    .Step("3 A policy for c2: c1 on port 80 is accepted, c3 is dropped", """
        A chain of c2's own, POLICY-C2, and one rule in FORWARD that sends every packet for c2 to it. The first rule
        accepts c1's TCP to port 80, the second drops anything from c3. c1's connection is counted on the ACCEPT.
        """, s => s
        .IptablesRule("POLICY-C2", acceptC1)
        .IptablesRule("POLICY-C2", dropC3)
        .IptablesRule("FORWARD", ["-d", "172.16.0.2", "-j", "POLICY-C2"])
        .Expect.Connect("c1", "172.16.0.2", 80)
        .Expect.Counter("POLICY-C2", acceptC1)
        .Expect.Counter("POLICY-C2", dropC3, grew: false))

    .Step("4 c3 is dropped, and the counters say by which rule", """
        c3's SYN reaches the bridge, goes through FORWARD into POLICY-C2 and is dropped without an answer: nc waits
        and gives up (timed out, not refused). The DROP rule's counter grew; the ACCEPT rule's did not.
        """, s => s
        .Expect.Connect("c3", "172.16.0.2", 80, result: "timed-out", why: ["iptables-drop"])
        .Expect.Counter("POLICY-C2", dropC3)
        .Expect.Counter("POLICY-C2", acceptC1, grew: false))

    .Step("5 Without a final DROP, the policy lets everything else in", """
        c1's ping is not TCP to port 80, so no rule of POLICY-C2 matches it: the chain returns to FORWARD, whose
        policy is ACCEPT. A policy that only lists what it allows must end with a default deny.
        """, s => s
        .Expect.Ping(from: "c1", to: "172.16.0.2"))

    .Step("6 Default deny: the last rule of POLICY-C2 drops the rest", """
        The same policy with a final -j DROP: c1 still reaches port 80, but its ping is dropped now, counted on the
        default-deny rule.
        """, s => s
        .IptablesRule("POLICY-C2", defaultDeny)
        .Expect.Connect("c1", "172.16.0.2", 80)
        .Expect.Ping(from: "c1", to: "172.16.0.2").Fails()
        .Expect.Counter("POLICY-C2", defaultDeny, packets: 2, pingFrom: "c1", pingTo: "172.16.0.2", pingCount: 2));

return lab;
