namespace LabRunner.Tests.Integration;

/// <summary>How the command line answers someone finding their way (issue 15): help, and usage errors that say what was meant.</summary>
public sealed class CliUsageSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_bare_labrunner_prints_the_help()
    {
        var r = await LabCli.RunAsync([], ct: Ct);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Usage:", r.Stdout);
        Assert.Contains("validate", r.Stdout);
        Assert.DoesNotContain("error", r.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("validate")]
    [InlineData("plan")]
    [InlineData("graph")]
    public async Task An_unknown_option_where_the_lab_goes_is_an_unknown_option_not_a_missing_file(string command)
    {
        var r = await LabCli.RunAsync([command, "--bogus"], ct: Ct);

        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("unknown option '--bogus'", r.Stderr);
        Assert.DoesNotContain("no such file", r.Output);
    }

    [Fact]
    public async Task An_after_step_that_names_no_step_says_which_steps_there_are()
    {
        var r = await LabCli.RunAsync(["graph", LabCli.Scenario("article/01-veth-bridge.yaml"), "--after-step", "abc"], ct: Ct);

        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("error: --after-step: no step 'abc' in lab", r.Stderr);
        Assert.Contains("its steps: 1.1, 1.2,", r.Stderr);
        Assert.DoesNotContain("System.Nullable", r.Output);
        Assert.Empty(r.Stdout);
    }

    /// <summary>graph --after-step takes a step as --until does: the article's own "3.4", or a position.</summary>
    [Fact]
    public async Task Graph_after_step_takes_the_lab_s_own_step_number_or_a_position()
    {
        var article = LabCli.Scenario("article/article.yaml");

        var byNumber = await LabCli.RunAsync(["graph", article, "--after-step", "3.2"], ct: Ct);
        var byPosition = await LabCli.RunAsync(["graph", article, "--after-step", "17"], ct: Ct);
        var unknown = await LabCli.RunAsync(["graph", article, "--after-step", "3.9"], ct: Ct);

        Assert.True(byNumber.ExitCode == 0, byNumber.ToString());
        Assert.Equal(byNumber.Stdout, byPosition.Stdout); // 3.2 is the article's 17th step
        Assert.True(unknown.ExitCode == 2, unknown.ToString());
        Assert.Contains("no step '3.9' in lab article (did you mean 3.8?)", unknown.Stderr);
    }

    [Theory]
    [InlineData(".txt")]
    [InlineData(".json")]
    [InlineData("")]
    public async Task A_lab_file_of_another_extension_is_refused(string extension)
    {
        var lab = TestFiles.Write("lab: x\nsteps:\n  - title: t\n", extension);

        var r = await LabCli.RunAsync(["validate", lab], ct: Ct);

        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("is no lab file: a YAML lab is .yaml or .yml, a C# lab .csx", r.Stderr);
        Assert.Empty(r.Stdout);
    }

    [Fact]
    public async Task A_lab_on_standard_input_is_read_as_yaml()
    {
        var r = await LabCli.RunAsync(["validate", "-"], stdin: "lab: piped\nsteps:\n  - title: t\n", ct: Ct);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("valid: /dev/stdin: lab piped, 1 steps", r.Stdout);
    }

    [Fact]
    public async Task Completion_bash_prints_a_script_bash_accepts_naming_every_command()
    {
        var r = await LabCli.RunAsync(["completion", "bash"], ct: Ct);
        var script = TestFiles.Write(r.Stdout, ".bash");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(0, await LabCli.ShAsync(["bash", "-n", script], Ct));
        foreach (var command in new[] { "run", "validate", "plan", "graph", "ls", "exec", "shell", "clean", "image", "replay", "schema", "completion" })
            Assert.Contains($"\"/{command}\")", r.Stdout);
        Assert.Contains("complete -F _labrunner labrunner", r.Stdout);
    }

    [Fact]
    public async Task Plan_of_a_lab_across_hosts_shows_each_hosts_part_with_the_inventorys_addresses_and_uplinks_or_stand_ins()
    {
        var lab = LabCli.Scenario("multi-host/vxlan.yaml");
        var inventory = Path.Combine(Path.GetTempPath(), $"lr-plan-inventory-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(inventory, "hosts:\n  a: { ssh: root@10.0.0.1, address: 10.0.0.1 }\n  b: { ssh: node-b, uplink: enp0s8, address: 10.0.0.2 }\n", Ct);
        try
        {
            var given = await LabCli.RunAsync(["plan", lab, "--inventory", inventory], ct: Ct);
            var standIns = await LabCli.RunAsync(["plan", lab], ct: Ct);

            Assert.True(given.ExitCode == 0, given.ToString());
            var hostB = given.Stdout.IndexOf("Host b (ssh node-b)", StringComparison.Ordinal);
            Assert.True(given.Stdout.IndexOf("Host a (ssh root@10.0.0.1)", StringComparison.Ordinal) is >= 0 and var hostA && hostA < hostB, given.Stdout);
            // Each host's tunnel end with its own address and its own uplink (b's is enp0s8; a has none in the inventory: the lab's eth0).
            Assert.Contains("$ ip link add name vxlan0 type vxlan id 42 remote 10.0.0.2 local 10.0.0.1 dev eth0 dstport 4789", given.Stdout[..hostB]);
            Assert.Contains("$ ip link add name vxlan0 type vxlan id 42 remote 10.0.0.1 local 10.0.0.2 dev enp0s8 dstport 4789", given.Stdout[hostB..]);
            Assert.Contains("nothing was run", given.Stdout);
            Assert.True(standIns.ExitCode == 0, standIns.ToString());
            Assert.Contains("Host a (no --inventory: a stand-in address, 192.0.2.1)", standIns.Stdout);
            Assert.Contains("remote 192.0.2.2 local 192.0.2.1 dev eth0", standIns.Stdout);
        }
        finally
        {
            File.Delete(inventory);
        }
    }

    [Fact]
    public async Task Ls_of_an_empty_state_directory_lists_nothing()
    {
        var state = Directory.CreateTempSubdirectory("labrunner-cli-ls-").FullName;
        try
        {
            var table = await LabCli.RunAsync(["ls", "--state-dir", state], ct: Ct);
            var json = await LabCli.RunAsync(["ls", "--state-dir", state, "--format", "json"], ct: Ct);

            Assert.True(table.ExitCode == 0, table.ToString());
            Assert.Contains("no runs in", table.Stdout);
            Assert.True(json.ExitCode == 0, json.ToString());
            Assert.Equal("[]", json.Stdout.Trim());
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>Runs named that are not there: exit 2, said on stderr, before anything is done (and before root is asked for).</summary>
    [Theory]
    [InlineData("clean", "zzzzzz")]
    [InlineData("exec", "zzzzzz", "host", "--", "true")]
    [InlineData("shell", "zzzzzz", "host")]
    public async Task A_run_that_is_not_there_is_exit_2_on_stderr(params string[] args)
    {
        var state = Directory.CreateTempSubdirectory("labrunner-cli-runs-").FullName;
        try
        {
            var r = await LabCli.RunAsync([args[0], "--state-dir", state, .. args[1..]], ct: Ct);

            Assert.True(r.ExitCode == 2, r.ToString());
            Assert.Contains("zzzzzz", r.Stderr);
            Assert.Empty(r.Stdout);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Run_help_names_step_control_and_pause_as_a_synonym_of_step()
    {
        var r = await LabCli.RunAsync(["run", "--help"], ct: Ct);

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Matches(@"--pause, --step +pause before each step", r.Stdout); // help lists aliases in order
        Assert.Contains("--until <STEP>", r.Stdout);
        Assert.Contains("--from <STEP>", r.Stdout);
    }

    [Fact]
    public async Task Graph_draws_mermaid_by_default_and_dot_or_svg_when_asked()
    {
        var lab = LabCli.Scenario("article/article.yaml");

        var mermaid = await LabCli.RunAsync(["graph", lab], ct: Ct);
        var dot = await LabCli.RunAsync(["graph", lab, "--format", "dot"], ct: Ct);
        var svg = await LabCli.RunAsync(["graph", lab, "--format", "svg", "--after-step", "6"], ct: Ct);

        Assert.True(mermaid.ExitCode == 0, mermaid.ToString());
        Assert.StartsWith("flowchart LR\n", mermaid.Stdout);
        Assert.True(dot.ExitCode == 0, dot.ToString());
        Assert.StartsWith("graph lab {\n", dot.Stdout);
        Assert.Contains("\"host/veth-1\" -- \"container:busybox-1/veth-2\"", dot.Stdout);
        Assert.True(svg.ExitCode == 0, svg.ToString());
        Assert.Contains("<svg ", svg.Stdout);
        Assert.Contains("netns n1", svg.Stdout);
    }

    [Fact]
    public async Task Graph_as_svg_without_graphviz_is_an_environment_problem_with_the_fix()
    {
        // A PATH with dotnet alone: labrunner starts, and finds no dot.
        var bin = Directory.CreateTempSubdirectory("labrunner-nodot-").FullName;
        try
        {
            var dotnet = new FileInfo("/usr/bin/dotnet").ResolveLinkTarget(returnFinalTarget: true)?.FullName
                         ?? Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => Path.Combine(d, "dotnet")).First(File.Exists);
            File.CreateSymbolicLink(Path.Combine(bin, "dotnet"), dotnet);

            var r = await LabCli.RunAsync(["graph", LabCli.Scenario("article/article.yaml"), "--format", "svg"],
                new Dictionary<string, string?> { ["PATH"] = bin }, ct: Ct);

            Assert.True(r.ExitCode == 3, r.ToString());
            Assert.Contains("environment: Graphviz is not installed", r.Stderr);
            Assert.Contains("fix: apt-get install -y graphviz", r.Stderr);
            Assert.Empty(r.Stdout);
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }
}
