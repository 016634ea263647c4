using System.Text;
using LabRunner.Loading;
using LabRunner.Tests.Unit.Infrastructure;

namespace LabRunner.Tests.Unit;

/// <summary>
/// One spec per kind of error: each says where (file:line:col, 1-based) and what, and the hint where there is one.
/// Scenarios are written inline; line 1 is the 'lab:' line, and an action item '- x: ...' under 'actions:' starts at column 9.
/// </summary>
public sealed class ScenarioValidationSpecs
{
    // ---------- the file itself ----------

    [Fact]
    public void Text_that_is_not_YAML_is_rejected_where_the_parser_stopped()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: "a
                actions: [
            """);

        error.At(3, 12); // the unterminated quoted string
        Assert.StartsWith("not valid YAML: ", error.Message);
        Assert.Contains("double-quoted scalar", error.Message);
    }

    [Fact]
    public void A_tab_in_indentation_is_rejected_on_its_own_line()
    {
        var error = Scenarios.ErrorIn("lab: x\nsteps:\n  - title: a\n    actions:\n\t  - netns-add: n1\n");

        error.At(5, 1);
        Assert.Contains("tab", error.Message);
        Assert.Equal("indent with spaces: YAML does not allow tabs in indentation", error.Hint);
    }

    [Fact]
    public void A_file_that_is_not_UTF8_is_rejected()
    {
        using var dir = new TempDirectory();
        var path = dir.File("latin1.yaml");
        File.WriteAllBytes(path, [.. "lab: caf"u8, 0xE9, .. "\nsteps: []\n"u8]);

        var error = Assert.Single(Scenarios.ErrorsInFile(path));

        error.At(1, 1, path);
        Assert.Equal("file is not valid UTF-8 text", error.Message);
        Assert.Equal("save the scenario as UTF-8", error.Hint);
    }

    [Fact]
    public void A_file_with_NUL_bytes_is_rejected_as_binary()
    {
        using var dir = new TempDirectory();
        var path = dir.File("binary.yaml");
        File.WriteAllBytes(path, [.. "lab: x\nst"u8, 0, .. "eps: []\n"u8]);

        var error = Assert.Single(Scenarios.ErrorsInFile(path));

        error.At(1, 1, path);
        Assert.Contains("NUL bytes", error.Message);
    }

    [Fact]
    public void A_file_over_1_MiB_is_rejected_before_it_is_parsed()
    {
        using var dir = new TempDirectory();
        var path = dir.File("huge.yaml");
        File.WriteAllText(path, "lab: x\n#" + new string('x', ScenarioLoader.MaxFileBytes));

        var error = Assert.Single(Scenarios.ErrorsInFile(path));

        error.At(1, 1, path);
        Assert.Contains($"a scenario may be at most {ScenarioLoader.MaxFileBytes}", error.Message);
    }

    [Fact]
    public void A_missing_file_is_reported_with_its_path()
    {
        var error = Assert.Single(Scenarios.ErrorsInFile("/nonexistent/lab.yaml"));

        Assert.Equal("no such file: /nonexistent/lab.yaml", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\n")]
    [InlineData("# only a comment\n")]
    public void An_empty_file_is_rejected(string text)
    {
        var error = Scenarios.ErrorIn(text);

        error.At(1, 1);
        Assert.Equal("file is empty", error.Message);
    }

    [Fact]
    public void A_file_with_two_YAML_documents_is_rejected()
    {
        var error = Scenarios.ErrorIn("lab: x\nsteps: []\n---\nlab: y\n");

        Assert.Equal("file holds more than one YAML document", error.Message);
    }

    [Theory]
    [InlineData("- lab: x\n- steps: []\n")]
    [InlineData("just a sentence\n")]
    public void A_top_level_that_is_not_a_mapping_is_rejected(string text)
    {
        var error = Scenarios.ErrorIn(text);

        error.At(1, 1);
        Assert.Equal("a scenario must be a mapping of 'key: value' lines", error.Message);
    }

    // ---------- structure ----------

    [Fact]
    public void A_scenario_without_lab_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            steps:
              - title: a
            """);

        error.At(1, 1);
        Assert.Equal("'lab' is missing", error.Message);
        Assert.Equal("add 'lab: ...' here", error.Hint);
    }

    [Fact]
    public void A_scenario_without_steps_is_rejected()
    {
        var error = Scenarios.ErrorIn("lab: x\n");

        error.At(1, 1);
        Assert.Equal("'steps' is missing", error.Message);
        Assert.Contains("'steps:' then '- title: ...'", error.Hint);
    }

    [Fact]
    public void Steps_that_are_not_a_list_are_rejected()
    {
        var error = Scenarios.ErrorIn("lab: x\nsteps: all of them\n");

        error.At(2, 8);
        Assert.Equal("'steps' must be a list of steps", error.Message);
    }

    [Fact]
    public void An_empty_list_of_steps_is_rejected()
    {
        var error = Scenarios.ErrorIn("lab: x\nsteps: []\n");

        error.At(2, 8);
        Assert.Equal("'steps' is empty", error.Message);
    }

    [Fact]
    public void A_step_without_title_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - actions:
                  - netns-add: n1
            """);

        error.At(3, 5);
        Assert.Equal("'title' is missing", error.Message);
    }

    [Fact]
    public void Actions_that_are_not_a_list_are_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions: netns-add
            """);

        error.At(4, 14);
        Assert.Equal("'actions' must be a list ('- ...' lines)", error.Message);
    }

    [Fact]
    public void An_unknown_key_at_top_level_is_rejected_with_the_key_it_resembles()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
            descripton: a typo
            """);

        error.At(4, 1);
        Assert.Equal("unknown key 'descripton' in the scenario (top level)", error.Message);
        Assert.Equal("did you mean 'description'?", error.Hint);
    }

    [Fact]
    public void An_unknown_key_in_a_step_is_rejected_with_the_key_it_resembles()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                expekt:
                  - netns: { name: n1 }
            """);

        error.At(6, 5);
        Assert.Equal("unknown key 'expekt' in a step", error.Message);
        Assert.Equal("did you mean 'expect'?", error.Hint);
    }

    [Fact]
    public void An_unknown_key_in_an_action_is_rejected_with_the_key_it_resembles()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - veth-add: { name: v1, peer: v2, peer_in: n1 }
            """);

        error.At(6, 41);
        Assert.Equal("unknown key 'peer_in' in 'veth-add'", error.Message);
        Assert.Equal("did you mean 'peer-in'?", error.Hint);
    }

    [Fact]
    public void An_unknown_key_beside_an_action_is_rejected_with_the_key_it_resembles()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - bridge-add: br0
                    fail-with: "RTNETLINK answers: File exists"
            """);

        error.At(6, 9);
        Assert.Equal("unknown key 'fail-with' in this action", error.Message);
        Assert.Equal("did you mean 'fails-with'?", error.Hint);
    }

    [Fact]
    public void A_misspelt_required_key_is_reported_missing_and_unknown_with_the_right_name_as_hint()
    {
        var errors = Scenarios.ErrorsIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - veth-add: { name: v1, peer: v2 }
                  - link-move: { name: v2, too: n1 }
            """);

        Assert.Equal(2, errors.Count);
        errors[0].At(7, 20);
        Assert.Equal("'to' is missing", errors[0].Message);
        errors[1].At(7, 32);
        Assert.Equal("unknown key 'too' in 'link-move'", errors[1].Message);
        Assert.Equal("did you mean 'to'?", errors[1].Hint);
    }

    [Fact]
    public void An_unknown_action_kind_is_rejected_with_the_kind_it_resembles()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - vet-add: { name: v1, peer: v2 }
            """);

        error.At(5, 9);
        Assert.Equal("unknown action 'vet-add'", error.Message);
        Assert.Equal("did you mean 'veth-add'?", error.Hint);
    }

    [Fact]
    public void An_unknown_action_kind_like_no_other_is_rejected_with_the_list_of_kinds()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - frobnicate: eth0
            """);

        error.At(5, 9);
        Assert.Equal("unknown action 'frobnicate'", error.Message);
        Assert.StartsWith("known actions: netns-add, netns-delete, veth-add,", error.Hint);
    }

    [Fact]
    public void An_unknown_expectation_kind_is_rejected_with_the_kind_it_resembles()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                expect:
                  - pingg: { from: host, to: 10.0.0.1 }
            """);

        error.At(5, 9);
        Assert.Equal("unknown expectation 'pingg'", error.Message);
        Assert.Equal("did you mean 'ping'?", error.Hint);
    }

    [Fact]
    public void Two_action_kinds_in_one_list_item_are_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                    bridge-add: br0
            """);

        error.At(5, 9);
        Assert.Equal("one action per list item, found netns-add and bridge-add", error.Message);
    }

    // ---------- types ----------

    [Fact]
    public void A_list_where_a_single_value_is_expected_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - veth-add: { name: [v1, v3], peer: v2 }
            """);

        error.At(5, 27);
        Assert.Equal("'name' must be a single value, not a list", error.Message);
    }

    [Fact]
    public void A_value_that_is_not_a_boolean_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - veth-add: { name: v1, peer: v2 }
                  - link-move: { name: v2, to: n1, up: maybe }
            """);

        error.At(7, 44);
        Assert.Equal("'up' must be true or false, not 'maybe'", error.Message);
    }

    [Fact]
    public void A_whole_number_out_of_its_range_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                expect:
                  - ping: { from: host, to: 10.0.0.1, count: 50 }
            """);

        error.At(5, 50);
        Assert.Equal("'count' must be a whole number from 1 to 20, not '50'", error.Message);
    }

    // ---------- formats ----------

    [Fact]
    public void A_CIDR_without_prefix_length_is_rejected()
    {
        var error = Scenarios.ErrorIn(AddressAdd("10.0.0.1"));

        error.At(6, 43);
        Assert.Equal("'10.0.0.1' needs a prefix length, e.g. 10.0.0.1/24", error.Message);
        Assert.Equal("write it as address/prefix, e.g. 172.16.100.1/24", error.Hint);
    }

    [Fact]
    public void A_CIDR_with_a_bad_address_is_rejected()
    {
        var error = Scenarios.ErrorIn(AddressAdd("10.0.0.300/24"));

        error.At(6, 43);
        Assert.Equal("'10.0.0.300' is not an IPv4 address", error.Message);
    }

    [Fact]
    public void A_CIDR_with_a_prefix_over_32_is_rejected()
    {
        var error = Scenarios.ErrorIn(AddressAdd("10.0.0.1/33"));

        error.At(6, 43);
        Assert.Equal("prefix length in '10.0.0.1/33' must be a number from 0 to 32", error.Message);
    }

    [Theory]
    [InlineData("10.0.0.1/-0", "prefix length")]
    [InlineData("'10.0.0.1/ 24'", "prefix length")]
    [InlineData("10.0.0.1/024", "prefix length")]
    [InlineData("10.0.0.1/", "prefix length")]
    [InlineData("010.0.0.1/24", "not an IPv4 address")] // IPAddress.TryParse reads it as octal 8.0.0.1
    [InlineData("0x0a.0.0.1/24", "not an IPv4 address")]
    [InlineData("10.0.1/24", "not an IPv4 address")]
    [InlineData("'10.0.0.1 /24'", "not an IPv4 address")]
    [InlineData("fe80::1::/64", "not an IPv6 address")] // fe80::1/64 is valid: IPv6 (Ipv6Specs)
    [InlineData("'fe80::1%eth0/64'", "has a zone")]
    public void A_CIDR_that_iproute2_would_read_otherwise_is_rejected(string address, string problem)
    {
        var error = Scenarios.ErrorIn(AddressAdd(address));

        error.At(6, 43);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void A_ping_target_that_is_not_IPv4_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                expect:
                  - ping: { from: host, to: 10.0.0 }
            """);

        error.At(5, 33);
        Assert.Equal("'10.0.0' is not an IPv4 address", error.Message);
        Assert.Equal("e.g. 172.16.100.1, or ${uplink.ip} for the host's uplink", error.Hint);
    }

    [Fact]
    public void A_veth_name_over_15_bytes_is_rejected_with_its_position()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - veth-add: { name: veth-0123456789a, peer: veth-0123456789 }
            """);

        error.At(5, 27);
        Assert.Equal("interface name 'veth-0123456789a' is 16 bytes; Linux allows at most 15", error.Message);
    }

    [Fact]
    public void An_interface_name_is_measured_in_bytes_not_characters()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - bridge-add: brücke-brücke1
            """);

        error.At(5, 21);
        Assert.Equal("interface name 'brücke-brücke1' is 16 bytes; Linux allows at most 15", error.Message);
    }

    [Fact]
    public void An_interface_name_with_a_space_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - bridge-add: "br 0"
            """);

        error.At(5, 21);
        Assert.Equal("interface name 'br 0' may only hold letters, digits, '-', '_' and '.', and must start with a letter or digit", error.Message);
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("a..b")]
    [InlineData("../../etc")]
    public void A_netns_name_that_could_escape_var_run_netns_is_rejected(string name)
    {
        var error = Scenarios.ErrorIn(NetnsAdd(name));

        error.At(5, 20);
        Assert.Equal($"netns name '{name}' contains '/' or '..', which would escape /var/run/netns", error.Message);
    }

    [Theory]
    [InlineData("n1;reboot")]
    [InlineData("$(id)")]
    [InlineData("`id`")]
    [InlineData("-n1")]
    [InlineData("n 1")]
    public void A_netns_name_with_shell_or_option_characters_is_rejected(string name)
    {
        var error = Scenarios.ErrorIn(NetnsAdd(name));

        error.At(5, 20);
        Assert.Equal($"netns name '{name}' may only hold letters, digits, '-', '_' and '.', and must start with a letter or digit", error.Message);
    }

    [Fact]
    public void Host_is_reserved_and_cannot_name_a_netns()
    {
        var error = Scenarios.ErrorIn(NetnsAdd("host"));

        error.At(5, 20);
        Assert.Equal("'host' is reserved for the lab's host; choose another netns name", error.Message);
    }

    [Fact]
    public void Host_is_reserved_and_cannot_name_a_container()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: host
            """);

        error.At(5, 24);
        Assert.Equal("'host' is reserved for the lab's host; choose another container name", error.Message);
    }

    [Theory]
    [InlineData("net/ipv4/ip_forward")]
    [InlineData("net..ipv4")]
    [InlineData("../../etc/passwd")]
    [InlineData("-a.b")] // would read as an option of sysctl
    [InlineData("ip_forward")]
    public void A_bad_sysctl_key_is_rejected(string key)
    {
        var error = Scenarios.ErrorIn($$"""
            lab: x
            steps:
              - title: a
                actions:
                  - sysctl: { key: "{{key}}", value: "1" }
            """);

        error.At(5, 24);
        Assert.Equal($"sysctl key '{key}' must look like net.ipv4.ip_forward (dot-separated words, no '/' or '..')", error.Message);
    }

    [Fact]
    public void An_iptables_policy_other_than_ACCEPT_or_DROP_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - iptables-policy: { chain: FORWARD, policy: REJECT }
            """);

        error.At(5, 52);
        Assert.Equal("policy must be ACCEPT or DROP, not 'REJECT'", error.Message);
    }

    [Fact]
    public void An_unknown_iptables_table_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - iptables-policy: { table: security, chain: FORWARD, policy: DROP }
            """);

        error.At(5, 35);
        Assert.Equal("unknown iptables table 'security'", error.Message);
        Assert.Equal("use filter, nat, mangle or raw", error.Hint);
    }

    [Theory]
    [InlineData("5 seconds")]
    [InlineData("5")]
    [InlineData("1h")]
    [InlineData("-1s")]
    [InlineData("NaNs")] // used to crash TimeSpan.FromMilliseconds
    [InlineData("Infinityms")]
    [InlineData("61m")]
    [InlineData("1e3ms")]
    public void A_bad_duration_for_within_is_rejected(string within)
    {
        var error = Scenarios.ErrorIn($$"""
            lab: x
            steps:
              - title: a
                expect:
                  - ping: { from: host, to: 10.0.0.1 }
                    within: "{{within}}"
            """);

        error.At(6, 17);
        Assert.Equal($"'within' must be a duration such as 500ms, 5s or 1m, not '{within}'", error.Message);
    }

    [Fact]
    public void A_bad_duration_for_within_inside_an_expectation_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                expect:
                  - ping: { from: host, to: 10.0.0.1, within: soon }
            """);

        error.At(5, 51);
        Assert.Equal("'within' must be a duration such as 500ms, 5s or 1m, not 'soon'", error.Message);
    }

    [Fact]
    public void A_command_action_without_undo_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - command: { argv: [ip, link, add, x, type, bridge] }
            """);

        error.At(5, 18);
        Assert.Equal("'undo' is missing", error.Message);
        Assert.Contains("'undo: none' when it changes nothing", error.Hint);
    }

    [Fact]
    public void An_unknown_placeholder_is_rejected_with_the_known_ones()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: busybox-1
                  - command: { argv: [echo, "${busybox-9.pid}"], undo: none }
            """);

        error.At(6, 26);
        Assert.Equal("unknown placeholder '${busybox-9.pid}'; known: ${uplink.ip}, ${busybox-1.pid}", error.Message);
    }

    [Fact]
    public void Only_busybox_can_be_run()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: { name: c1, image: alpine }
            """);

        error.At(5, 43);
        Assert.Equal("image 'alpine' is not available offline", error.Message);
        Assert.Equal("use 'busybox' (built from Debian's busybox-static)", error.Hint);
    }

    // ---------- names: declared, unique, alive ----------

    [Fact]
    public void A_reference_to_an_undeclared_netns_is_rejected_with_the_name_it_resembles()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - bridge-add: { name: br0, in: n2 }
            """);

        error.At(6, 38);
        Assert.Equal("unknown netns or container 'n2': no action of this lab creates it", error.Message);
        Assert.Equal("did you mean 'n1'?", error.Hint);
    }

    [Fact]
    public void A_reference_to_an_undeclared_container_is_rejected_with_the_name_it_resembles()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: busybox-1
                  - container-stop: busybox-2
            """);

        error.At(6, 25);
        Assert.Equal("unknown container 'busybox-2': no action of this lab creates it", error.Message);
        Assert.Equal("did you mean 'busybox-1'?", error.Hint);
    }

    [Fact]
    public void Netns_of_an_unknown_container_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: { name: busybox-3, netns-of: busybox-7 }
            """);

        error.At(5, 53);
        Assert.Equal("unknown container 'busybox-7': no action of this lab creates it", error.Message);
    }

    [Fact]
    public void Netns_of_a_container_not_running_yet_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: { name: busybox-3, netns-of: busybox-1 }
                  - container-run: busybox-1
            """);

        error.At(5, 9);
        Assert.Equal("container 'busybox-1' is not running at this point", error.Message);
    }

    [Fact]
    public void A_netns_added_twice_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
              - title: b
                actions:
                  - netns-add: n1
            """);

        error.At(8, 9);
        Assert.Equal("netns 'n1' already exists", error.Message);
    }

    [Fact]
    public void A_container_cannot_take_the_name_of_a_netns()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: pod
                  - container-run: pod
            """);

        error.At(6, 9);
        Assert.Equal("'pod' is already a netns name", error.Message);
        Assert.Equal("netns and container names must differ", error.Hint);
    }

    [Fact]
    public void A_netns_cannot_take_the_name_of_a_container()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: pod
                  - netns-add: pod
            """);

        error.At(6, 9);
        Assert.Equal("'pod' is already a container name", error.Message);
    }

    [Fact]
    public void A_link_created_twice_in_one_namespace_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - veth-add: { name: veth-1, peer: veth-2 }
                  - veth-add: { name: veth-3, peer: veth-1 }
            """);

        error.At(6, 9);
        Assert.Equal("link 'veth-1' already exists in host", error.Message);
        Assert.Contains("an action that must fail needs 'fails-with'", error.Hint);
    }

    [Fact]
    public void A_link_created_twice_is_allowed_when_it_must_fail()
    {
        var scenario = Scenarios.Load("""
            lab: x
            steps:
              - title: a
                actions:
                  - veth-add: { name: veth-1, peer: veth-2 }
                  - veth-add: { name: veth-3, peer: veth-1 }
                    fails-with: "RTNETLINK answers: File exists"
                  - veth-add: { name: veth-3, peer: veth-4 }
            """);

        Assert.Equal(3, scenario.AllActions.Count());
    }

    [Fact]
    public void A_link_with_the_same_name_in_another_namespace_is_allowed()
    {
        var scenario = Scenarios.Load("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - bridge-add: br-0
                  - bridge-add: { name: br-0, in: n1 }
            """);

        Assert.Equal(3, scenario.AllActions.Count());
    }

    [Fact]
    public void A_link_used_in_the_wrong_namespace_is_rejected_with_where_it_is()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - veth-add: { name: veth-1, peer: veth-2 }
                  - link-move: { name: veth-2, to: n1 }
                  - link-up: veth-2
            """);

        error.At(8, 9);
        Assert.Equal("link 'veth-2' does not exist in host at this point", error.Message);
        Assert.Equal("it is in netns n1; add 'in: n1'", error.Hint);
    }

    [Fact]
    public void A_link_that_no_action_creates_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - address-add: { dev: br-0, address: 172.16.100.1/24 }
            """);

        error.At(5, 9);
        Assert.Equal("link 'br-0' does not exist in host at this point", error.Message);
        Assert.Equal("create it first (veth-add or bridge-add)", error.Hint);
    }

    [Fact]
    public void A_netns_used_after_netns_delete_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - netns-delete: n1
                  - bridge-add: { name: br-0, in: n1 }
            """);

        error.At(7, 9);
        Assert.Equal("netns n1 has been deleted at this point", error.Message);
    }

    [Fact]
    public void Links_of_a_deleted_netns_are_gone_with_it_and_so_are_their_veth_peers()
    {
        // The article: 'ip netns del n1' takes veth-2 along, and with it its peer veth-1 in the host.
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - veth-add: { name: veth-1, peer: veth-2 }
                  - link-move: { name: veth-2, to: n1 }
                  - netns-delete: n1
                  - link-up: veth-1
            """);

        error.At(9, 9);
        Assert.Equal("link 'veth-1' does not exist in host at this point", error.Message);
    }

    [Fact]
    public void A_container_used_after_container_stop_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: c1
                  - container-stop: c1
                  - link-up: { name: lo, in: c1 }
            """);

        error.At(7, 9);
        Assert.Equal("container c1 has been stopped at this point", error.Message);
    }

    [Fact]
    public void A_container_used_before_container_run_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                expect:
                  - links: { in: c1, exactly: [lo] }
              - title: b
                actions:
                  - container-run: c1
            """);

        error.At(5, 9);
        Assert.Equal("container c1 is not running yet at this point", error.Message);
        Assert.Equal("add 'container-run' before this step", error.Hint);
    }

    [Fact]
    public void A_container_pid_used_before_the_container_runs_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - command: { argv: [test, -d, "/proc/${c1.pid}"], undo: none }
                  - container-run: c1
            """);

        error.At(5, 9);
        Assert.Equal("${c1.pid} is used while container 'c1' is not running yet", error.Message);
        Assert.Equal("use it only after 'container-run: c1' and before 'container-stop: c1'", error.Hint);
    }

    [Fact]
    public void A_container_pid_used_after_the_container_stopped_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - container-run: c1
                  - container-stop: c1
                expect:
                  - command: { argv: [test, -d, "/proc/${c1.pid}"] }
            """);

        error.At(8, 9);
        Assert.Equal("${c1.pid} is used while container 'c1' has been stopped", error.Message);
    }

    [Theory]
    [InlineData("link-down: ens3", "set down 'ens3'")]
    [InlineData("link-up: lo", "set up 'lo'")]
    [InlineData("link-delete: ens3", "delete 'ens3'")]
    [InlineData("link-move: { name: ens3, to: n1 }", "move 'ens3'")]
    [InlineData("bridge-attach: { bridge: br-0, link: ens3 }", "attach or detach 'ens3'")]
    public void Changing_a_host_link_the_lab_did_not_create_is_rejected(string action, string what)
    {
        var error = Scenarios.ErrorIn($"""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - bridge-add: br-0
                  - {action}
            """);

        error.At(7, 9);
        Assert.Equal($"cannot {what}: this lab did not create it", error.Message);
        Assert.Equal("a lab may only change links it created", error.Hint);
    }

    [Fact]
    public void The_uplink_is_protected_under_its_own_name()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            uplink: { name: eth0, address: 10.0.2.15/24 }
            steps:
              - title: a
                actions:
                  - link-down: eth0
            """);

        error.At(6, 9);
        Assert.Equal("cannot set down 'eth0': this lab did not create it", error.Message);
    }

    [Fact]
    public void Lo_of_a_namespace_the_lab_created_may_be_changed()
    {
        var scenario = Scenarios.Load("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - link-up: { name: lo, in: n1 }
            """);

        Assert.Equal(2, scenario.AllActions.Count());
    }

    [Fact]
    public void Bridge_attach_to_a_link_that_is_not_a_bridge_is_rejected()
    {
        var error = Scenarios.ErrorIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - veth-add: { name: veth-1, peer: veth-2 }
                  - bridge-attach: { bridge: veth-1, link: veth-2 }
            """);

        error.At(6, 9);
        Assert.Equal("'veth-1' is not a bridge", error.Message);
        Assert.Equal("create it with 'bridge-add'", error.Hint);
    }

    // ---------- every error, at once ----------

    [Fact]
    public void Every_error_of_a_file_is_reported_not_just_the_first()
    {
        var errors = Scenarios.ErrorsIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - bridge-add: { name: br0, in: n2 }
                  - vet-add: { name: v1, peer: v2 }
                  - address-add: { dev: br0, address: 10.0.0.1 }
            """);

        Assert.Equal(["lab.yaml:6:38", "lab.yaml:7:9", "lab.yaml:8:43"], errors.Select(e => e.Span.ToString()));
        Assert.Equal("unknown netns or container 'n2': no action of this lab creates it", errors[0].Message);
        Assert.Equal("unknown action 'vet-add'", errors[1].Message);
        Assert.Equal("'10.0.0.1' needs a prefix length, e.g. 10.0.0.1/24", errors[2].Message);
    }

    [Fact]
    public void Every_flow_error_of_a_file_is_reported_not_just_the_first()
    {
        var errors = Scenarios.ErrorsIn("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - netns-add: n1
                  - bridge-add: br0
                  - bridge-add: br0
              - title: b
                actions:
                  - link-down: ens3
            """);

        Assert.Equal(["lab.yaml:6:9", "lab.yaml:8:9", "lab.yaml:11:9"], errors.Select(e => e.Span.ToString()));
        Assert.Equal("netns 'n1' already exists", errors[0].Message);
        Assert.Equal("link 'br0' already exists in host", errors[1].Message);
        Assert.Equal("cannot set down 'ens3': this lab did not create it", errors[2].Message);
    }

    [Fact]
    public void The_exception_message_lists_every_error_with_its_position_and_hint()
    {
        var e = Assert.Throws<ScenarioInvalidException>(() => Scenarios.Load("""
            lab: x
            steps:
              - title: a
                actions:
                  - netns-add: n1
                  - netns-add: n1
                  - link-down: lo
            """));

        Assert.Equal(
            "2 errors:\n" +
            "lab.yaml:6:9: error: netns 'n1' already exists\n    hint: delete it first, or choose another name\n" +
            "lab.yaml:7:9: error: cannot set down 'lo': this lab did not create it\n    hint: a lab may only change links it created",
            e.Message.ReplaceLineEndings("\n"));
    }

    private static string AddressAdd(string address) => $$"""
        lab: x
        steps:
          - title: a
            actions:
              - bridge-add: br0
              - address-add: { dev: br0, address: {{address}} }
        """;

    private static string NetnsAdd(string name) => $$"""
        lab: x
        steps:
          - title: a
            actions:
              - netns-add: "{{name.Replace("\\", "\\\\")}}"
        """;
}
