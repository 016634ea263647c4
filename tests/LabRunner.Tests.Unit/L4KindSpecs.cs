using LabRunner.Execution;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// `serve`, `connect` and `http` (issue 12): a server is a lab process, started in its place's namespace, stopped at
/// teardown by its label; a connection's end is told from busybox nc's words.
/// </summary>
public sealed class L4KindSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Lab(string actions, string expect = "") => $$"""
        lab: l4
        steps:
          - title: a namespace
            actions:
              - netns-add: n1
          - title: the server
            actions:
        {{actions}}
        {{expect}}
        """;

    [Fact]
    public async Task An_http_server_runs_busybox_httpd_in_its_place_and_is_stopped_by_its_label_at_teardown()
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(Scenarios.Load(Lab("      - serve: { app: http, port: 80, page: hello, in: n1 }")), state.Path, Ct);

        var start = Assert.Single(plan.CommandsFor(CommandPurpose.Action), c => c.Contains("httpd", StringComparison.Ordinal));
        Assert.StartsWith("ip netns exec lr-test01-n1 busybox httpd -f -p 80 -h ", start);
        Assert.Contains("/serve-n1-80", start);
        Assert.Contains("kill -KILL <serve-n1-80.pid>", plan.CommandsFor(CommandPurpose.Teardown));
    }

    [Fact]
    public async Task An_echo_server_is_busybox_nc_sending_back_what_it_gets()
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(Scenarios.Load(Lab("      - serve: { app: echo, port: 7, in: n1 }")), state.Path, Ct);

        Assert.Contains("ip netns exec lr-test01-n1 busybox nc -ll -p 7 -e cat", plan.CommandsFor(CommandPurpose.Action));
    }

    [Theory]
    [InlineData(0, "hello", "", "connected")]
    [InlineData(137, "", "", "connected")] // killed by the bound while still connected: a server that never closes
    [InlineData(1, "", "nc: can't connect to remote host (10.0.0.2): Connection refused", "refused")]
    [InlineData(1, "", "nc: timed out", "timed-out")]
    [InlineData(1, "", "nc: can't connect to remote host (10.0.0.2): No route to host", "unreachable")]
    [InlineData(1, "", "nc: can't connect to remote host (10.0.0.2): Network is unreachable", "unreachable")]
    [InlineData(2, "", "nc: bad address 'x'", "failed (exit 2)")]
    public void A_connections_end_is_told_from_what_nc_says(int exit, string stdout, string stderr, string result) =>
        Assert.Equal(result, ConnectExpectation.Classify(new CommandOutcome(exit, stdout, stderr, TimeSpan.Zero)));

    [Fact]
    public async Task A_udp_echo_server_is_socat_answering_each_datagram_and_is_listening_once_ss_lists_its_udp_port()
    {
        using var state = new TempDirectory();
        var plan = await Plan.MakeAsync(Scenarios.Load(Lab("      - serve: { app: udp-echo, port: 5353, in: n1 }")), state.Path, Ct);

        Assert.Contains("ip netns exec lr-test01-n1 socat UDP6-LISTEN:5353,fork,reuseaddr,ipv6only=0 EXEC:cat", plan.CommandsFor(CommandPurpose.Action));
        Assert.Contains("kill -KILL <serve-n1-5353.pid>", plan.CommandsFor(CommandPurpose.Teardown));
    }

    [Theory]
    [InlineData(0, "labrunner\n", "", "connected")]
    [InlineData(0, "", "", "timed-out")] // nothing came back within -T: dropped, or nobody answers
    [InlineData(1, "", "2026/11/30 15:03:00 socat[10884] E read(5, 0x558bd132c000, 8192): Connection refused", "refused")] // an ICMP port unreachable
    [InlineData(1, "", "socat[1] E sendto(5, ...): Network is unreachable", "unreachable")]
    [InlineData(1, "", "socat[1] E sendto(5, ...): No route to host", "unreachable")]
    [InlineData(137, "", "", "failed (exit 137)")]
    public void A_udp_exchanges_end_is_told_from_what_socat_says(int exit, string stdout, string stderr, string result) =>
        Assert.Equal(result, ConnectExpectation.ClassifyUdp(new CommandOutcome(exit, stdout, stderr, TimeSpan.Zero)));

    [Fact]
    public async Task A_udp_connect_sends_one_datagram_with_the_hosts_socat_in_the_places_namespace()
    {
        var runner = new RecordingRunner(argv => argv.Any(a => a.Contains("socat -T 2", StringComparison.Ordinal))
            ? RecordingRunner.Ok("ping-me") : RecordingRunner.Ok());

        var check = Assert.Single(await FakeRuns.LastStepChecksAsync(Lab("      - netns-add: n2",
            "    expect:\n      - connect: { from: n1, to: 10.0.0.2, port: 5353, protocol: udp, send: ping-me, receive: ping-me }"), runner, "ab0d01", Ct));

        Assert.True(check.Result.Held, check.Result.Observed);
        Assert.Equal("UDP from n1 to 10.0.0.2:5353 connects and gets back \"ping-me\"", check.Result.Expected);
        var exchange = runner.Commands.Single(c => c.Argv.Any(a => a.Contains("socat -T 2", StringComparison.Ordinal))).Argv;
        Assert.Equal(["ip", "netns", "exec", "lr-ab0d01-n1", "timeout", "-s", "KILL", "6", "sh", "-c"], exchange.Take(10));
        Assert.Equal(["sh", "ping-me", "10.0.0.2", "5353"], exchange.Skip(11));
    }

    [Theory]
    [InlineData("serve: { app: ftp, port: 21 }", "unknown app 'ftp'")]
    [InlineData("serve: { app: http, port: 70000 }", "'port' must be a whole number from 1 to 65535, not '70000'")]
    [InlineData("serve: { app: echo, port: 7, page: hi }", "'page' is for app: http")]
    [InlineData("serve: { app: udp-echo, port: 7, page: hi }", "'page' is for app: http")]
    [InlineData("serve: { port: 80 }", "'app' is missing")]
    [InlineData("serve: { app: echo, port: 7, page-size: 1000 }", "'page-size' is for app: http")]
    [InlineData("serve: { app: http, port: 80, page-size: 0 }", "'page-size' must be a whole number from 1 to 67108864, not '0'")]
    public void A_mistake_in_serve_is_refused_where_it_is_written(string action, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn(Lab("      - " + action)).Message);

    [Theory]
    [InlineData("connect: { from: n1, to: 10.0.0.2, port: 80, result: dropped }", "unknown result 'dropped'")]
    [InlineData("connect: { from: n1, to: 10.0.0.2, port: 80, result: refused, receive: x }", "'receive' needs a connection")]
    [InlineData("connect: { from: n1, to: 10.0.0.2 }", "'port' is missing")]
    [InlineData("connect: { from: n1, to: 10.0.0.2, port: 53, protocol: sctp }", "unknown protocol 'sctp'")]
    [InlineData("http: { from: n1, url: https://10.0.0.2/ }", "'https://10.0.0.2/' is not an http:// URL")]
    [InlineData("http: { from: n1, url: http://10.0.0.2/, status: 99 }", "'status' must be a whole number from 100 to 599, not '99'")]
    public void A_mistake_in_connect_or_http_is_refused_where_it_is_written(string expectation, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn(Lab("      - serve: { app: http, port: 80, in: n1 }", "    expect:\n      - " + expectation)).Message);

    [Theory]
    [InlineData("the end", null, 8)]
    [InlineData("the end", 8, 8)]
    [InlineData("the end", 5, 8)] // a text longer than the size is the page alone
    [InlineData("the end", 9, 9)]
    [InlineData("the end", 72, 72)]
    [InlineData("the end", 250000, 250000)]
    [InlineData("fin é", 1000, 1000)] // bytes, not characters
    public void A_pages_size_is_made_of_filler_lines_before_its_text_which_comes_last(string text, int? size, int bytes)
    {
        var page = Serve.PageText(text, size);

        Assert.Equal(bytes, System.Text.Encoding.UTF8.GetByteCount(page));
        Assert.EndsWith(text + "\n", page);
        Assert.All(page.Split('\n')[..^2], line => Assert.True(line.Length <= 63, line));
    }

    [Fact]
    public void The_CSharp_kinds_are_the_YAML_ones()
    {
        var big = Scenarios.Load(Lab("      - serve: { app: http, port: 8080, page: end, page-size: 250000, in: n1 }"));
        var bigCsharp = Authoring.Lab.Named("l4").Step("a namespace", s => s.Netns("n1")).Step("the server", s => s.Serve("http", 8080, page: "end", pageSize: 250000).In("n1")).Build();
        Assert.Equal(250000, Assert.IsType<Serve>(big.Steps[1].Actions[0]).PageSize);
        Assert.Equal(big.Steps[1].Actions[0] with { Span = SourceSpan.None }, bigCsharp.Steps[1].Actions[0] with { Span = SourceSpan.None });

        var yaml = Scenarios.Load(Lab("      - serve: { app: http, port: 80, page: hello, in: n1 }", """
                expect:
                  - connect: { from: host, to: 10.0.0.2, port: 80, send: hi, receive: hi }
                  - http: { from: host, url: "http://10.0.0.2/", body-contains: hello }
            """));
        var csharp = Authoring.Lab.Named("l4")
            .Step("a namespace", s => s.Netns("n1"))
            .Step("the server", s => s.Serve("http", 80, page: "hello").In("n1")
                .Expect.Connect(from: "host", to: "10.0.0.2", port: 80, send: "hi", receive: "hi")
                .Expect.Http(from: "host", url: "http://10.0.0.2/", bodyContains: "hello"))
            .Build();

        static object Strip(object x) => x switch { LabAction a => a with { Span = SourceSpan.None }, Expectation e => e with { Span = SourceSpan.None }, _ => x };
        Assert.Equal(yaml.Steps[1].Actions.Select(Strip), csharp.Steps[1].Actions.Select(Strip));
        Assert.Equal(yaml.Steps[1].Expectations.Select(Strip), csharp.Steps[1].Expectations.Select(Strip));
    }
}

/// <summary>`fdb` (issue 12): a MAC a bridge learned on a port; only learned entries count.</summary>
public sealed class FdbKindSpecs
{
    private static string Lab(string expect) => $$"""
        lab: fdb
        steps:
          - title: a bridge with a port
            actions:
              - bridge-add: br-0
              - netns-add: n1
              - veth-add: { name: veth-1, peer: eth0, peer-in: n1 }
              - bridge-attach: { bridge: br-0, link: veth-1 }
            expect:
              - {{expect}}
        """;

    [Fact]
    public void Learned_entries_are_those_the_bridge_did_not_make_for_itself()
    {
        // bridge -j fdb show br br-0 (iproute2 6.1): the port's own address and multicast entries are permanent/self.
        using var fdb = System.Text.Json.JsonDocument.Parse("""
            [{"mac":"33:33:00:00:00:01","ifname":"veth-1","flags":["self"],"state":"permanent"},
             {"mac":"6e:5d:2c:aa:01:02","ifname":"veth-1","master":"br-0","state":"permanent"},
             {"mac":"2a:0f:0c:99:ed:3e","ifname":"veth-1","master":"br-0","state":""},
             {"mac":"9a:67:82:1e:ec:0e","ifname":"veth-3","master":"br-0"}]
            """);

        Assert.Equal([("2a:0f:0c:99:ed:3e", "veth-1"), ("9a:67:82:1e:ec:0e", "veth-3")], FdbExpectation.Learned(fdb.RootElement));
    }

    [Theory]
    [InlineData("fdb: { bridge: br-0, port: veth-1 }", "'mac' or 'mac-of' is missing")]
    [InlineData("fdb: { bridge: br-0, port: veth-1, mac: 02:00:00:00:00:01, mac-of: { link: eth0, in: n1 } }", "give either 'mac' or 'mac-of', not both")]
    [InlineData("fdb: { bridge: veth-1, port: veth-1, mac: 02:00:00:00:00:01 }", "'veth-1' is not a bridge")]
    [InlineData("fdb: { bridge: br-0, port: lo, mac: 02:00:00:00:00:01 }", "'lo' is not a port of 'br-0' in host at this point")]
    public void A_mistake_is_refused_where_it_is_written(string expectation, string message) =>
        Assert.Equal(message, Scenarios.ErrorIn(Lab(expectation)).Message);

    [Fact]
    public void The_CSharp_fdb_is_the_YAML_one()
    {
        var yaml = Scenarios.Load(Lab("fdb: { bridge: br-0, port: veth-1, mac-of: { link: eth0, in: n1 } }"));
        var csharp = Authoring.Lab.Named("fdb")
            .Step("a bridge with a port", s => s.Bridge("br-0").Netns("n1").Veth("veth-1", "eth0", peerIn: "n1").Attach("br-0", "veth-1")
                .Expect.Fdb("br-0", "veth-1", macOf: "eth0", macOfIn: "n1"))
            .Build();

        Assert.Equal(yaml.Steps[0].Expectations[0] with { Span = SourceSpan.None }, csharp.Steps[0].Expectations[0] with { Span = SourceSpan.None });
    }
}
