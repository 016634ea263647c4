using System.Text;
using CliWrap;
using CliWrap.Buffered;
using LabRunner.Platform;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// A test bed of three hosts (scripts/ssh-testbed.sh up 3: real sshd in namespaces of their own, reached with the
/// system's ssh), made once for <see cref="MultiHostLabSpecs"/> and removed after it. Their uplinks have three names, as
/// real machines' NICs do, so every lab shows it runs unchanged wherever its hosts name their links differently.
/// </summary>
public sealed class SshTestbed : IAsyncLifetime
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "lr-testbed-" + Guid.NewGuid().ToString("N")[..8]);

    public string Inventory => Path.Combine(Dir, "inventory.yaml");

    public string SshConfig => Path.Combine(Dir, "ssh_config");

    /// <summary>Hosts a, b and c's links to each other (the inventory's uplinks).</summary>
    public static readonly string[] Uplinks = ["eth0", "enp0s8", "ens5"];

    private static string Script => Path.Combine(LabCli.RepoRoot, "scripts", "ssh-testbed.sh");

    public async ValueTask InitializeAsync()
    {
        if (!Processes.IsRoot || !File.Exists("/usr/sbin/sshd")) return; // each spec says why it cannot run
        var up = await CliWrap.Cli.Wrap("bash").WithArguments([Script, "up", "3", "--dir", Dir, "--uplinks", string.Join(',', Uplinks)]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();
        if (up.ExitCode != 0) throw new InvalidOperationException($"ssh-testbed.sh up 3 failed: {up.StandardOutput}{up.StandardError}");
    }

    public async ValueTask DisposeAsync() =>
        await CliWrap.Cli.Wrap("bash").WithArguments([Script, "down", "--dir", Dir]).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();

    /// <summary>What a lab could leave on a host: links, addresses, routes, named namespaces, journals, forwarding.</summary>
    public async Task<string> StateAsync(string host, CancellationToken ct)
    {
        var state = await CliWrap.Cli.Wrap("ssh").WithArguments(["-F", SshConfig, host, "--",
                "ip -br link | sort; ip -br addr | sort; ip route | sort; echo netns: $(ip netns list); echo journals: $(ls -A /run/labrunner); " +
                "sysctl -n net.ipv4.ip_forward"])
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(ct);
        return state.ExitCode == 0 ? state.StandardOutput : $"ssh to {host} failed: {state.StandardError}";
    }

    public async Task<Dictionary<string, string>> StatesAsync(CancellationToken ct) =>
        new((await Task.WhenAll(new[] { "a", "b", "c" }.Select(async h => KeyValuePair.Create(h, await StateAsync(h, ct))))));
}

/// <summary>
/// Issue 14: labs across hosts over real OpenSSH on the local test bed. scenarios/multi-host pass on two and three hosts
/// and leave nothing on any host or on the machine; a controller killed with kill -9 mid-lab is cleaned by the hosts
/// themselves and `clean --hosts`; a dropped connection fails the lab and its host is still cleaned; an unreachable host
/// at the start is exit 3 with nothing built anywhere.
/// </summary>
public sealed class MultiHostLabSpecs(SshTestbed bed) : IClassFixture<SshTestbed>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Require()
    {
        Root.Require();
        SshTestbedSpecs.RequireSshd();
    }

    [Theory]
    [InlineData("host-gw.yaml")]
    [InlineData("vxlan.yaml")]
    [InlineData("flannel.yaml")]
    public async Task A_multi_host_lab_passes_on_the_test_bed_and_leaves_nothing_on_any_host(string lab)
    {
        Require();
        var before = HostSnapshot.Take();
        var hostsBefore = await bed.StatesAsync(Ct);

        var run = await LabCli.RunAsync(["run", LabCli.Scenario($"multi-host/{lab}"), "--inventory", bed.Inventory], ct: Ct);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("PASSED on every host", run.Stdout);
        Assert.Equal(hostsBefore, await bed.StatesAsync(Ct));
        Assert.Empty(before.Diff(HostSnapshot.Take()));
        Assert.Empty(ControlDirectoriesLeft());
    }

    /// <summary>kill -9 of the controller after step K began: every host's part sees its input end and tears down.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task A_controller_killed_mid_lab_leaves_nothing_on_any_host_after_clean_hosts(int step)
    {
        Require();
        var before = HostSnapshot.Take();
        var hostsBefore = await bed.StatesAsync(Ct);
        var (run, output) = await StartUntilStepAsync(step);
        Assert.False(run.Task.IsCompleted, $"the run ended before step {step}: {output}");
        Assert.Equal(0, await LabCli.ShAsync(["kill", "-KILL", run.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)], Ct));
        Assert.Equal(137, (await run).ExitCode);

        var clean = await LabCli.RunAsync(["clean", "--hosts", "--inventory", bed.Inventory], ct: Ct);

        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.Contains("is left on any host", clean.Stdout);
        Assert.Equal(hostsBefore, await bed.StatesAsync(Ct));
        Assert.Empty(ControlDirectoriesLeft());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    /// <summary>Ctrl-C (SIGINT) to the controller: every host's part is told (its input ends), tears down, and the run exits 130.</summary>
    [Fact]
    public async Task A_controller_interrupted_tears_every_host_down_and_exits_130()
    {
        Require();
        var before = HostSnapshot.Take();
        var hostsBefore = await bed.StatesAsync(Ct);
        var (run, output) = await StartUntilStepAsync(2);
        Assert.False(run.Task.IsCompleted, $"the run ended before step 2: {output}");

        Assert.True(Processes.Signal(run.ProcessId, 2));
        var result = await run;

        Assert.True(result.ExitCode == 130, output.ToString());
        Assert.Contains("SIGINT: ending the lab on every host", output.ToString());
        Assert.Contains("[a] teardown: nothing of the lab is left on this host", output.ToString());
        Assert.Contains("[b] teardown: nothing of the lab is left on this host", output.ToString());
        Assert.Equal(hostsBefore, await bed.StatesAsync(Ct));
        Assert.Empty(ControlDirectoriesLeft());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    /// <summary>
    /// Host b's ssh session ends mid-lab (its ssh client killed: the connection is gone for the controller): the lab fails
    /// clearly, the others quit, and b's part, its input ended, tears down; the controller confirms it over a new connection.
    /// </summary>
    [Fact]
    public async Task A_dropped_connection_to_one_host_fails_the_lab_clearly_and_teardown_reaches_that_host()
    {
        Require();
        var before = HostSnapshot.Take();
        var hostsBefore = await bed.StatesAsync(Ct);
        var (run, output) = await StartUntilStepAsync(3);
        // The controller's ssh child that runs b's part: its last word is the quoted remote command with "part" and "-b".
        var client = ChildrenOf(run.ProcessId).Single(pid => File.ReadAllText($"/proc/{pid}/cmdline").Split('\0') is var argv
            && argv[0] == "ssh" && argv.Contains("b") && argv[^2].Contains(" part ", StringComparison.Ordinal));
        Assert.True(Processes.Signal(client, 9));

        var result = await run;

        Assert.True(result.ExitCode == 1, output.ToString());
        Assert.Contains("[b] the part ended without a result", output.ToString());
        Assert.Contains("FAILED (exit 1)", output.ToString());
        Assert.Equal(hostsBefore, await bed.StatesAsync(Ct));
        Assert.Empty(ControlDirectoriesLeft());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task A_host_unreachable_at_the_start_is_exit_3_naming_it_and_nothing_is_built_anywhere()
    {
        Require();
        var inventory = Path.Combine(bed.Dir, "unreachable.yaml");
        var text = await File.ReadAllTextAsync(bed.Inventory, Ct);
        // Host b's destination is an address nobody has on the test bed's underlay.
        await File.WriteAllTextAsync(inventory, text.Replace("b: { ssh: b,", "b: { ssh: root@10.99.0.99,", StringComparison.Ordinal), Ct);
        var hostsBefore = await bed.StatesAsync(Ct);
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", LabCli.Scenario("multi-host/host-gw.yaml"), "--inventory", inventory], ct: Ct);

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains("environment: host b (root@10.99.0.99) does not answer", run.Stdout);
        Assert.Contains("nothing was built on any host", run.Stdout);
        Assert.DoesNotContain("Step 1/", run.Stdout);
        Assert.Equal(hostsBefore, await bed.StatesAsync(Ct));
        Assert.Empty(before.Diff(HostSnapshot.Take()));
        File.Delete(inventory);
    }

    /// <summary>The controller running host-gw on the test bed, once it has printed "Step <paramref name="step"/>/" (or ended).</summary>
    private async Task<(CommandTask<CommandResult> Run, StringBuilder Output)> StartUntilStepAsync(int step)
    {
        var output = new StringBuilder();
        // Without .NET's diagnostics IPC: a controller killed with SIGKILL would leave its debugger pipes in /tmp.
        // env --default-signal: a test host started in the background inherits SIGINT ignored, and so would the controller.
        var run = CliWrap.Cli.Wrap("env").WithArguments(["--default-signal=INT,TERM", "dotnet", Path.Combine(AppContext.BaseDirectory, "labrunner.dll"), "run", LabCli.Scenario("multi-host/host-gw.yaml"), "--inventory", bed.Inventory])
            .WithEnvironmentVariables(new Dictionary<string, string?> { ["DOTNET_EnableDiagnostics"] = "0" })
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(output)).WithValidation(CommandResultValidation.None).ExecuteAsync(Ct);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!output.ToString().Contains($"Step {step}/", StringComparison.Ordinal) && !run.Task.IsCompleted && DateTime.UtcNow < deadline)
            await Task.Delay(20, Ct);
        return (run, output);
    }

    private static IEnumerable<int> ChildrenOf(int parent) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Select(n => int.TryParse(n, out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Processes.ParentOf(pid) == parent).ToList();

    private static List<string> ControlDirectoriesLeft() =>
        [.. Directory.EnumerateDirectories(Path.GetTempPath(), "lr-ssh-*")];
}
