using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

public sealed class ScenarioLoadingSpecs
{
    [Theory]
    [MemberData(nameof(Repo.ArticleScenarioNames), MemberType = typeof(Repo))]
    public void I_can_load_every_article_scenario(string fileName)
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article(fileName));

        Assert.NotEmpty(scenario.Steps);
        Assert.Equal(Repo.Article(fileName), scenario.Span.File);
        Assert.Equal(new Uplink("ens3", "192.168.64.6/24"), scenario.Uplink);
        Assert.All(scenario.AllActions, a => Assert.True(a.Span.Line > 0, $"{a.Keyword} has no position"));
    }

    [Fact]
    public void There_are_the_five_article_scenarios()
    {
        Assert.Equal(
            ["01-veth-bridge.yaml", "02-container-host.yaml", "03-container-to-container.yaml", "04-shared-netns.yaml", "article.yaml"],
            Repo.ArticleScenarioNames().Select(row => row.Data));
    }

    [Fact]
    public void I_can_load_the_article_scenario_with_all_its_steps_in_order()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));

        Assert.Equal("article", scenario.Name);
        Assert.Equal(25, scenario.Steps.Length);
        Assert.Equal("0 The article's host runs Docker", scenario.Steps[0].Title);
        Assert.Equal("4.2 Same veth-2, same MAC, same address; busybox-3 reaches busybox-2", scenario.Steps[^1].Title);
        // The article's numbering, in order: every step of its table, 3.5's tcpdump included.
        Assert.Equal(
            ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7",
             "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "4.1", "4.2"],
            scenario.Steps.Select(s => s.Title.Split(' ')[0]).Where(n => n.Contains('.')));
    }

    [Fact]
    public void Step_1_4s_veth_add_must_fail_with_the_articles_error()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("01-veth-bridge.yaml"));

        var step = Assert.Single(scenario.Steps, s => s.Title.StartsWith("1.4 ", StringComparison.Ordinal));
        var action = Assert.Single(step.Actions);
        Assert.Equal(new VethAdd("veth-3", "veth-1", Place.Host, null), action with { Span = SourceSpan.None, ExpectedError = null });
        Assert.Equal("RTNETLINK answers: File exists", action.ExpectedError);
        Assert.Equal(new SourceSpan(Repo.Article("01-veth-bridge.yaml"), 48, 9), action.Span);
    }

    [Fact]
    public void Only_the_actions_the_article_shows_failing_are_expected_to_fail()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));

        var failing = scenario.AllActions.Where(a => a.ExpectedError is not null).ToList();

        Assert.Equal(2, failing.Count);
        Assert.IsType<VethAdd>(failing[0]);
        var command = Assert.IsType<RunCommand>(failing[1]);
        Assert.Equal(["ip", "netns", "exec", "${busybox-1.pid}", "ip", "a"], command.Argv);
        Assert.Null(command.Undo); // undo: none
        Assert.Equal("Cannot open network namespace \"${busybox-1.pid}\": No such file or directory", command.ExpectedError);
    }

    [Fact]
    public void In_busybox_1_resolves_to_the_containers_namespace_and_in_n1_to_the_netns()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));

        var route = Assert.Single(scenario.AllActions.OfType<RouteAdd>());
        Assert.Equal(new RouteAdd("default", "veth-2", null, Place.Container("busybox-1")), route with { Span = SourceSpan.None });
        Assert.Equal(PlaceKind.Container, route.In.Kind);

        var move = scenario.AllActions.OfType<LinkMove>().First();
        Assert.Equal(new LinkMove("veth-2", Place.Host, Place.Netns("n1"), Up: true), move with { Span = SourceSpan.None });

        var lo = scenario.Steps.SelectMany(s => s.Expectations).OfType<LinkExpectation>().First(e => e.Name == "lo");
        Assert.Equal(Place.Netns("n1"), lo.In);
        Assert.Equal("DOWN", lo.State);
    }

    [Fact]
    public void Short_forms_read_as_the_long_forms_they_stand_for()
    {
        var shortForms = Scenarios.Load("""
            lab: short
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - bridge-add: br-0
                  - link-up: br-0
                  - container-run: c1
                  - netns-symlink: c1
                  - container-stop: c1
                  - link-delete: br-0
                  - netns-delete: n1
            """);
        var longForms = Scenarios.Load("""
            lab: long
            steps:
              - title: a
                actions:
                  - netns-add: { name: n1 }
                  - bridge-add: { name: br-0, in: host }
                  - link-up: { name: br-0 }
                  - container-run: { name: c1, image: busybox }
                  - netns-symlink: { container: c1 }
                  - container-stop: { name: c1 }
                  - link-delete: { name: br-0 }
                  - netns-delete: { name: n1 }
            """);

        LabAction[] expected =
        [
            new NetnsAdd("n1"), new BridgeAdd("br-0", Place.Host), new LinkSetState("br-0", Place.Host, Up: true),
            new ContainerRun("c1", "busybox", null), new NetnsSymlink("c1"), new ContainerStop("c1"),
            new LinkDelete("br-0", Place.Host), new NetnsDelete("n1"),
        ];
        Assert.Equal(expected, shortForms.AllActions.Select(a => a with { Span = SourceSpan.None }));
        Assert.Equal(expected, longForms.AllActions.Select(a => a with { Span = SourceSpan.None }));
    }

    [Fact]
    public void A_short_form_keeps_the_position_of_the_action()
    {
        var scenario = Scenarios.Load("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
            """);

        Assert.Equal(new SourceSpan(Scenarios.File, 5, 9), Assert.Single(scenario.AllActions).Span);
    }

    [Fact]
    public void A_container_can_join_another_containers_network_namespace()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("04-shared-netns.yaml"));

        var run = scenario.AllActions.OfType<ContainerRun>().Single(c => c.Name == "busybox-3");

        Assert.Equal("busybox-1", run.ShareNetnsWith);
        Assert.Equal(Place.Container("busybox-3"), scenario.Steps[1].Expectations.OfType<LinksExpectation>().Single().In);
    }

    [Fact]
    public void Within_reads_as_a_duration_beside_or_inside_an_expectation_and_defaults_to_5s()
    {
        var scenario = Scenarios.Load("""
            lab: x
            steps:
              - title: a
                expect:
                  - ping: { from: host, to: 10.0.0.1 }
                    within: 2s
                  - ping: { from: host, to: 10.0.0.2, within: 500ms }
                  - ping: { from: host, to: 10.0.0.3 }
                  - ping: { from: host, to: 10.0.0.4 }
                    within: 1.5m
            """);

        Assert.Equal(
            [TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(90)],
            scenario.Steps[0].Expectations.Select(e => e.Within));
        Assert.Equal(TimeSpan.FromSeconds(5), Expectation.DefaultWithin);
    }

    [Fact]
    public void A_ping_expectation_keeps_uplink_ip_symbolic_and_a_failing_ping_sends_two_packets()
    {
        var scenario = Scenarios.Load("""
            lab: x
            steps:
              - title: a
                expect:
                  - ping: { from: host, to: "${uplink.ip}" }
                  - ping: { from: host, to: 10.0.0.1, succeeds: false }
                  - ping: { from: host, to: 10.0.0.1, count: 3 }
            """);

        var pings = scenario.Steps[0].Expectations.Cast<PingExpectation>().Select(p => p with { Span = SourceSpan.None }).ToList();

        Assert.Equal(new PingExpectation(Place.Host, "${uplink.ip}", true, 1), pings[0]);
        Assert.Equal(new PingExpectation(Place.Host, "10.0.0.1", false, 2), pings[1]);
        Assert.Equal(new PingExpectation(Place.Host, "10.0.0.1", true, 3), pings[2]);
    }

    [Fact]
    public void A_command_action_keeps_its_argv_and_its_undo()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("02-container-host.yaml"));

        var command = scenario.AllActions.OfType<RunCommand>().Single(c => c.Undo is not null);

        Assert.Equal(["ip", "netns", "exec", "${busybox-1.pid}", "ip", "addr", "add", "172.16.100.101/24", "dev", "veth-2"], command.Argv);
        Assert.Equal(["ip", "netns", "exec", "${busybox-1.pid}", "ip", "addr", "del", "172.16.100.101/24", "dev", "veth-2"], command.Undo!.Value);
        Assert.Equal(Place.Host, command.In);
    }

    [Fact]
    public void Sysctl_and_iptables_policy_read_their_fields_and_the_table_defaults_to_filter()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("03-container-to-container.yaml"));

        Assert.Equal(new IptablesPolicy("filter", "FORWARD", "DROP", Place.Host),
            scenario.AllActions.OfType<IptablesPolicy>().Single() with { Span = SourceSpan.None });
        Assert.Equal(
            ["net.bridge.bridge-nf-call-iptables=1", "net.bridge.bridge-nf-call-arptables=0", "net.bridge.bridge-nf-call-ip6tables=0", "net.bridge.bridge-nf-call-iptables=0"],
            scenario.AllActions.OfType<SysctlSet>().Select(s => $"{s.Key}={s.Value}"));
    }

    [Fact]
    public void Link_and_neighbor_expectations_read_master_none_and_mac_of()
    {
        var scenario = ScenarioLoader.LoadFile(Repo.Article("article.yaml"));
        var expectations = scenario.Steps.SelectMany(s => s.Expectations).ToList();

        var veth4 = expectations.OfType<LinkExpectation>().Single(e => e.Name == "veth-4" && e.Present);
        Assert.True(veth4.NoMaster);
        Assert.Null(veth4.Master);

        var arp = expectations.OfType<NeighborExpectation>().First();
        Assert.Equal(("172.16.100.1", "br-0", Place.Host), (arp.Ip, arp.MacOfLink!, arp.MacOfIn!));
        Assert.Equal(Place.Container("busybox-2"), arp.In);

        var shared = expectations.OfType<LinkExpectation>().Single(e => e.MacOfLink is not null);
        Assert.Equal((Place.Container("busybox-3"), "veth-2", Place.Container("busybox-1")), (shared.In, shared.MacOfLink!, shared.MacOfIn!));
    }

    [Fact]
    public void Without_an_uplink_the_article_s_ens3_is_assumed()
    {
        var scenario = Scenarios.Load("""
            lab: x
            steps:
              - title: a
            """);

        Assert.Equal(Uplink.Default, scenario.Uplink);
        Assert.Equal("192.168.64.6", scenario.Uplink.Ip);
        Assert.Null(scenario.Description);
    }

    [Fact]
    public void I_can_load_a_file_that_starts_with_a_UTF8_byte_order_mark()
    {
        using var dir = new TempDirectory();
        var path = dir.File("bom.yaml");
        File.WriteAllBytes(path, [.. Encoding.UTF8.Preamble, .. "lab: bom\nsteps:\n  - title: a\n"u8]);

        Assert.Equal("bom", ScenarioLoader.LoadFile(path).Name);
    }

    [Fact]
    public void I_can_load_a_file_with_CRLF_line_endings_and_positions_stay_right()
    {
        var scenario = Scenarios.Load("lab: x\r\nsteps:\r\n  - title: a\r\n    actions:\r\n      - netns-add: n1\r\n");

        Assert.Equal(new SourceSpan(Scenarios.File, 5, 9), scenario.AllActions.Single().Span);
    }

    /// <summary>article.yaml is assembled from the section files; a step changed in one must change in the other.</summary>
    [Fact]
    public void The_article_scenario_has_the_same_numbered_steps_as_the_section_files()
    {
        var article = ScenarioLoader.LoadFile(Repo.Article("article.yaml")).Steps.ToDictionary(s => s.Title);
        var compared = 0;
        foreach (var file in new[] { "01-veth-bridge.yaml", "02-container-host.yaml", "03-container-to-container.yaml", "04-shared-netns.yaml" })
        {
            foreach (var step in ScenarioLoader.LoadFile(Repo.Article(file)).Steps)
            {
                // Numbered steps are the article's; "Setup: ..." and 2.0 rebuild what an earlier section left.
                if (!Regex.IsMatch(step.Title, @"^\d\.\d ") || step.Title.StartsWith("2.0 ", StringComparison.Ordinal)) continue;
                Assert.True(article.TryGetValue(step.Title, out var twin), $"{file}: step '{step.Title}' is missing from article.yaml");
                Assert.Equal(step.Text, twin.Text);
                Assert.Equal(Canonical(step), Canonical(twin));
                compared++;
            }
        }
        Assert.Equal(23, compared);
    }

    /// <summary>A step's actions and expectations as JSON without positions (records holding ImmutableArray compare by reference).</summary>
    private static string Canonical(Step step) =>
        string.Join("\n",
            step.Actions.Select(ModelJson.WithoutSpans).Concat(step.Expectations.Select(ModelJson.WithoutSpans)));
}
