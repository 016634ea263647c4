using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.MultiHost;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// Labs across hosts without a host: `hosts:` and `on:` in the language, the inventory, each host's part, host
/// addresses written in, and the ssh command lines. The runs themselves are in the integration specs (the test bed).
/// </summary>
public sealed class MultiHostSpecs
{
    private static string Lab(string name) => Path.Combine(Repo.Root, "scenarios", "multi-host", name);

    private const string Inventory2 = """
        ssh-config: /run/lr-testbed/ssh_config
        hosts:
          a: { ssh: a, uplink: eth0, address: 10.99.0.11, labrunner: "dotnet /opt/lr/labrunner.dll" }
          b: { ssh: root@10.99.0.12, address: 10.99.0.12 }
        """;

    [Theory]
    [InlineData("host-gw.yaml", new[] { "a", "b" })]
    [InlineData("vxlan.yaml", new[] { "a", "b" })]
    [InlineData("flannel.yaml", new[] { "a", "b", "c" })]
    public void A_lab_across_hosts_says_on_which_host_each_entry_runs_and_each_part_loads_as_a_lab_of_its_own(string file, string[] hosts)
    {
        var text = File.ReadAllText(Lab(file));
        var lab = ScenarioLoader.Load(text, file);

        Assert.Equal(hosts, lab.Hosts);
        Assert.All(lab.Steps.SelectMany(s => s.Actions), a => Assert.Contains(a.OnHost, hosts));
        Assert.All(lab.Steps.SelectMany(s => s.Expectations), e => Assert.Contains(e.OnHost, hosts));
        foreach (var host in hosts)
        {
            var part = ScenarioLoader.Load(HostParts.PartText(HostParts.WithStandIns(text, file), host, "eth0"), $"<part {host}>");
            var model = lab.PartOn(host);
            Assert.Empty(part.Hosts);
            Assert.Equal("eth0", part.Uplink.Name);
            Assert.Equal(lab.Steps.Select(s => s.Title).Append(HostParts.LastStepTitle), part.Steps.Select(s => s.Title));
            var steps = part.Steps[..^1];
            Assert.Equal(model.Steps.Select(s => string.Join(",", s.Actions.Select(a => a.Keyword))), steps.Select(s => string.Join(",", s.Actions.Select(a => a.Keyword))));
            Assert.Equal(model.Steps.Select(s => string.Join(",", s.Expectations.Select(e => e.Describe()))), steps.Select(s => string.Join(",", s.Expectations.Select(e => e.Describe()))));
            Assert.True(part.Steps[^1].Actions.IsEmpty && part.Steps[^1].Expectations.IsEmpty);
            Assert.DoesNotContain("on:", HostParts.PartText(text, host, null).Split('\n').Where(l => l.TrimStart().StartsWith("on:", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void A_name_may_be_a_place_on_two_hosts_each_host_is_played_on_its_own()
    {
        var lab = ScenarioLoader.Load("""
            lab: twice
            hosts: [a, b]
            steps:
              - title: one namespace of the same name on each host
                actions:
                  - { on: a, netns-add: n1 }
                  - { on: b, netns-add: n1 }
            """, "twice.yaml");

        Assert.Single(lab.PartOn("a").Steps[0].Actions);
    }

    [Theory]
    [InlineData("lab: x\nhosts: [a, b]\nsteps:\n  - title: t\n    actions:\n      - { on: c, netns-add: n1 }\n", "x.yaml:6:15: error: unknown host 'c'")]
    [InlineData("lab: x\nsteps:\n  - title: t\n    actions:\n      - { on: a, netns-add: n1 }\n", "x.yaml:5:15: error: 'on' names a host, but this lab has no 'hosts'")]
    [InlineData("lab: x\nhosts: [a, b]\nsteps:\n  - title: t\n    actions:\n      - netns-add: n1\n", "x.yaml:6:9: error: this action does not say which host it is on")]
    [InlineData("lab: x\nhosts: [a, a]\nsteps:\n  - title: t\n    on: a\n    actions:\n      - netns-add: n1\n", "x.yaml:2:8: error: host 'a' is named twice in 'hosts'")]
    [InlineData("lab: x\nhosts: [a, b]\nsteps:\n  - title: t\n    actions:\n      - { on: a, netns-add: n1 }\n      - { on: a, netns-add: n1 }\n", "error: on a: ")]
    public void A_wrong_host_is_exit_2_at_its_position(string yaml, string message)
    {
        var e = Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.Load(yaml, "x.yaml"));

        Assert.Contains(message, e.Message);
    }

    private const string CrossCapture = "lab: x\nhosts: [a, b]\nsteps:\n  - title: t\n    on: a\n    actions:\n      - container-run: c1\n" +
        "    expect:\n      - on: b\n        capture:\n          while: { ping: { on: HOST, from: c1, to: 10.0.0.2 } }\n          on: [ { link: eth0, sees: [icmp] } ]\n";

    [Fact]
    public void A_capture_on_one_host_may_watch_a_ping_another_host_sends()
    {
        var lab = ScenarioLoader.Load(CrossCapture.Replace("HOST", "a"), "x.yaml");

        var capture = Assert.IsType<CaptureExpectation>(lab.Steps[0].Expectations[0]);
        Assert.Equal(("b", "a", "c1"), (capture.OnHost, capture.While.OnHost, capture.While.From.Name));
        Assert.Equal("while c1 on a pings 10.0.0.2: eth0 sees 'icmp'", capture.Describe());
        // b's part names c1, a place it does not have, only as the ping's: it loads on its own.
        var part = ScenarioLoader.Load(HostParts.PartText(CrossCapture.Replace("HOST", "a"), "b", null), "<part b>");
        Assert.Equal("a", Assert.IsType<CaptureExpectation>(part.Steps[0].Expectations[0]).While.OnHost);
    }

    [Theory]
    [InlineData("c", "x.yaml:11:32: error: unknown host 'c'")]
    [InlineData("b", "x.yaml:11:32: error: the ping's 'on: b' is the capture's own host")]
    public void A_captures_ping_on_a_wrong_host_is_exit_2(string host, string message)
    {
        var e = Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.Load(CrossCapture.Replace("HOST", host), "x.yaml"));

        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_captures_ping_on_another_host_needs_a_lab_across_hosts()
    {
        var e = Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.Load(
            "lab: x\nsteps:\n  - title: t\n    expect:\n      - capture:\n          while: { ping: { on: a, from: n1, to: 10.0.0.2 } }\n          on: [ { link: lo, sees: [icmp] } ]\n", "x.yaml"));

        Assert.Contains("x.yaml:6:32: error: the ping's 'on' names a host, but this lab has no 'hosts'", e.Message);
    }

    [Theory]
    [InlineData("ping c1 10.0.0.2 3", true)]
    [InlineData("ping c1 10.0.0.2", false)]
    [InlineData("ping c1 10.0.0.2 99", false)]
    [InlineData("go", false)]
    public void A_part_at_a_barrier_takes_a_ping_for_another_hosts_capture(string line, bool ping)
    {
        Assert.Equal(ping, LabRunner.Cli.PartProtocol.PingRequest(line) is not null);
    }

    [Fact]
    public void A_step_says_the_host_of_all_its_entries_and_an_entry_may_say_another()
    {
        var lab = ScenarioLoader.Load("lab: x\nhosts: [a, b]\nsteps:\n  - title: t\n    on: a\n    actions:\n      - netns-add: n1\n      - { on: b, netns-add: n2 }\n", "x.yaml");

        Assert.Equal(["a", "b"], lab.Steps[0].Actions.Select(a => a.OnHost));
    }

    [Fact]
    public void Host_addresses_come_from_the_inventory_and_stand_ins_from_the_documentation_range_without_one()
    {
        const string text = "via: ${hosts.b.address}\nlocal: ${hosts.a.address} ${hosts.b.address}\n";

        Assert.Equal("via: 10.0.0.2\nlocal: 10.0.0.1 10.0.0.2\n", HostParts.WithHostFields(text, "x.yaml", (h, _) => h == "a" ? "10.0.0.1" : "10.0.0.2"));
        Assert.Equal("via: 192.0.2.1\nlocal: 192.0.2.2 192.0.2.1\n", HostParts.WithStandIns(text, "x.yaml"));
        var e = Assert.Throws<ScenarioInvalidException>(() => HostParts.WithHostFields(text, "x.yaml", (h, _) => h == "a" ? "10.0.0.1" : null));
        Assert.Contains("x.yaml:1:6: error: no address for host 'b'", e.Message);
    }

    [Fact]
    public void Host_uplinks_come_from_the_inventory_and_stand_in_as_the_labs_own_uplink_without_one()
    {
        const string text = "uplink: { name: eth0 }\ndev: \"${hosts.b.uplink}\"\nlink: \"${hosts.a.uplink}\"\n";

        Assert.Equal("uplink: { name: eth0 }\ndev: \"enp0s8\"\nlink: \"eth1\"\n",
            HostParts.WithHostFields(text, "x.yaml", (h, field) => field == "uplink" ? (h == "a" ? "eth1" : "enp0s8") : null));
        Assert.Equal("uplink: { name: eth0 }\ndev: \"eth0\"\nlink: \"eth0\"\n", HostParts.WithStandIns(text, "x.yaml"));
        Assert.Equal(Uplink.Default.Name, HostParts.LabUplinkName("lab: no uplink\n"));
        Assert.Equal(Uplink.Default.Name, HostParts.LabUplinkName("{ not: yaml"));
    }

    [Fact]
    public void A_host_field_other_than_address_or_uplink_is_exit_2_at_its_position_with_the_nearest()
    {
        var e = Assert.Throws<ScenarioInvalidException>(() => HostParts.WithStandIns("lab: x\nvia: ${hosts.a.adress}\n", "x.yaml"));

        Assert.Contains("x.yaml:2:6: error: a host has no field 'adress'", e.Message);
        Assert.Contains("did you mean 'address'?", e.Message);
    }

    [Theory]
    [InlineData("host-gw.yaml")]
    [InlineData("vxlan.yaml")]
    [InlineData("flannel.yaml")]
    public void A_lab_runs_unchanged_on_hosts_whose_uplinks_have_other_names_each_part_checked_with_its_own(string file)
    {
        string[] names = ["eth0", "enp0s8", "ens5"];
        var text = File.ReadAllText(Lab(file));
        var hosts = ScenarioLoader.Load(text, file).Hosts;
        var uplinks = hosts.Select((h, i) => (h, names[i])).ToDictionary(x => x.h, x => x.Item2);

        var written = HostParts.WithHostFields(text, file, (h, field) => field == "uplink" ? uplinks[h] : $"10.0.0.{hosts.IndexOf(h) + 1}");
        var lab = ScenarioLoader.Load(written, file, uplinks); // each host's part checked with its uplink: no error

        Assert.DoesNotContain("${hosts.", written);
        foreach (var host in hosts)
        {
            Assert.Equal(uplinks[host], lab.PartOn(host).Uplink.Name);
            var part = ScenarioLoader.Load(HostParts.PartText(written, host, uplinks[host]), $"<part {host}>");
            Assert.Equal(uplinks[host], part.Uplink.Name);
        }
    }

    [Fact]
    public void A_lab_that_names_one_hosts_uplink_literally_is_refused_for_a_host_whose_uplink_is_another()
    {
        const string text = """
            lab: literal
            hosts: [a, b]
            uplink: { name: eth0 }
            steps:
              - title: an overlay on each host's uplink
                actions:
                  - { on: a, vxlan-add: { name: vx0, id: 42, dev: eth0, local: 10.0.0.1 } }
                  - { on: b, vxlan-add: { name: vx0, id: 42, dev: eth0, local: 10.0.0.2 } }
            """;

        ScenarioLoader.Load(text, "x.yaml", new Dictionary<string, string> { ["a"] = "eth0", ["b"] = "eth0" });
        var e = Assert.Throws<ScenarioInvalidException>(() => ScenarioLoader.Load(text, "x.yaml", new Dictionary<string, string> { ["b"] = "enp0s8" }));

        Assert.Contains("on b:", e.Message);
        Assert.Contains("eth0", e.Message);
        Assert.DoesNotContain("on a:", e.Message);
    }

    [Fact]
    public void The_inventory_maps_each_host_to_ssh_uplink_address_and_labrunner()
    {
        var inventory = Inventory.Load(Inventory2, "/tmp/inv.yaml");

        Assert.Equal("/run/lr-testbed/ssh_config", inventory.SshConfig);
        Assert.Equal(new InventoryHost("a", "a", "eth0", "10.99.0.11", ["dotnet", "/opt/lr/labrunner.dll"]), inventory.Hosts["a"]);
        Assert.Equal(new InventoryHost("b", "root@10.99.0.12", null, "10.99.0.12", ["labrunner"]), inventory.Hosts["b"]);
        var lab = ScenarioLoader.Load(File.ReadAllText(Lab("flannel.yaml")), "flannel.yaml");
        var missing = Assert.Throws<ScenarioInvalidException>(() => inventory.For(lab));
        Assert.Contains("has no host 'c' (it has: a, b)", missing.Message);
    }

    [Theory]
    [InlineData("hosts:\n  a: { uplink: eth0 }\n", "inv.yaml:2:6: error: 'ssh' is missing")]
    [InlineData("hosts:\n  a: { ssh: -oProxyCommand=x }\n", "inv.yaml:2:13: error: ssh destination '-oProxyCommand=x' starts with '-'")]
    [InlineData("hosts:\n  a: { ssh: a, adress: 1.2.3.4 }\n", "inv.yaml:2:16: error: unknown key 'adress'")]
    [InlineData("hosts: [a, b]\n", "inv.yaml:1:8: error: 'hosts' must map each host name to where it is")]
    public void A_wrong_inventory_is_exit_2_at_its_position(string yaml, string message)
    {
        var e = Assert.Throws<ScenarioInvalidException>(() => Inventory.Load(yaml, "inv.yaml"));

        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Ssh_is_the_systems_client_multiplexed_in_batch_mode_with_each_remote_word_quoted()
    {
        var ssh = new SshTransport("/run/lr-testbed/ssh_config", "/tmp/lr-ssh-x");
        var host = new InventoryHost("a", "root@10.0.0.1", null, null, ["dotnet", "/opt/lr dir/labrunner.dll"]);

        var argv = ssh.Labrunner(host, "part", "--lab-id", "3f9a1c-a", "it's");

        Assert.Equal(["ssh", "-F", "/run/lr-testbed/ssh_config", "-o", "BatchMode=yes", "-o", "ControlMaster=auto", "-o", "ControlPath=/tmp/lr-ssh-x/%C",
            "-o", "ControlPersist=10s", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3", "-o", "ConnectTimeout=10", "--", "root@10.0.0.1",
            "dotnet '/opt/lr dir/labrunner.dll' part --lab-id 3f9a1c-a 'it'\\''s'"], argv);
        Assert.Equal(["ssh", .. ssh.Options, "-O", "exit", "--", "root@10.0.0.1"], ssh.ExitMaster(host));
    }
}
