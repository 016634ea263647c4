using CliWrap;
using CliWrap.Buffered;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// scripts/ssh-testbed.sh, the local test bed for multi-host labs: `up 2` gives two hosts reachable over real OpenSSH
/// through the generated ssh config, each with its own network namespace and its own /run/netns and /run/labrunner
/// (what one host makes there neither the machine nor the other host sees); `down` leaves nothing behind.
/// </summary>
public sealed class SshTestbedSpecs
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Script => Path.Combine(LabCli.RepoRoot, "scripts", "ssh-testbed.sh");

    [Fact]
    public async Task Two_hosts_answer_over_ssh_each_with_its_own_named_namespaces_and_run_dir_and_down_leaves_nothing()
    {
        Root.Require();
        RequireSshd();
        var dir = Path.Combine(Path.GetTempPath(), "lr-testbed-" + Guid.NewGuid().ToString("N")[..8]);
        var before = HostSnapshot.Take();
        var probe = "probe-" + Guid.NewGuid().ToString("N")[..8];
        var netns = "lrt-tb-" + Guid.NewGuid().ToString("N")[..6];
        LabRun? down = null;
        try
        {
            var up = await Sh(["bash", Script, "up", "2", "--dir", dir, "--uplinks", "eth0,enp0s8"]); // as two real machines may name their NICs
            Assert.True(up.ExitCode == 0, up.ToString());
            var inventory = up.Stdout.TrimEnd().Split('\n')[^1];
            Assert.Equal(Path.Combine(dir, "inventory.yaml"), inventory);
            var text = await File.ReadAllTextAsync(inventory, Ct);
            Assert.Contains($"ssh-config: {dir}/ssh_config", text);
            Assert.Contains("a: { ssh: a, uplink: eth0, address: 10.99.0.11, labrunner: \"dotnet ", text);
            Assert.Contains("b: { ssh: b, uplink: enp0s8, address: 10.99.0.12, labrunner: \"dotnet ", text);

            // One login per host (each runs root's shell startup files): host a makes a named namespace and a file in
            // its /run/labrunner and sees both; host b sees neither, and neither does the machine.
            var config = Path.Combine(dir, "ssh_config");
            var a = await Sh(["ssh", "-F", config, "a", "--",
                $"ip -br addr show dev eth0 && ip netns add {netns} && echo hi > /run/labrunner/{probe} && echo NETNS: $(ip netns list) && echo RUN: $(ls /run/labrunner)"]);
            Assert.True(a.ExitCode == 0, a.ToString());
            Assert.Matches(@"(?m)^eth0@\S+\s+UP\s+10\.99\.0\.11/24", a.Stdout);
            Assert.Contains($"NETNS: {netns}", a.Stdout);
            Assert.Contains($"RUN: {probe}", a.Stdout);

            var b = await Sh(["ssh", "-F", config, "b", "--", "ip -br addr show dev enp0s8 && echo NETNS: $(ip netns list) && echo RUN: $(ls /run/labrunner)"]);
            Assert.True(b.ExitCode == 0, b.ToString());
            Assert.Matches(@"(?m)^enp0s8@\S+\s+UP\s+10\.99\.0\.12/24", b.Stdout);
            Assert.DoesNotContain(netns, b.Stdout);
            Assert.DoesNotContain(probe, b.Stdout);

            Assert.False(Path.Exists(Path.Combine("/run/netns", netns)), $"host a's namespace {netns} is visible in the machine's /run/netns");
            Assert.False(Path.Exists(Path.Combine("/run/labrunner", probe)), $"host a's /run/labrunner/{probe} is visible in the machine's /run/labrunner");
        }
        finally
        {
            down = await Sh(["bash", Script, "down", "--dir", dir]);
        }

        Assert.True(down.ExitCode == 0, down.ToString());
        Assert.False(Directory.Exists(dir), $"{dir} is still there after down");
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    /// <summary>The script needs OpenSSH's server (vagrant/provision.sh --tools installs it); CI provisions it, so there it fails.</summary>
    internal static void RequireSshd()
    {
        if (File.Exists("/usr/sbin/sshd")) return;
        const string why = "the ssh test bed needs openssh-server (/usr/sbin/sshd): install it with vagrant/provision.sh --tools";
        if (Environment.GetEnvironmentVariable("CI") is not null) Assert.Fail(why);
        Assert.Skip(why);
    }

    private static async Task<LabRun> Sh(string[] argv)
    {
        var result = await CliWrap.Cli.Wrap(argv[0]).WithArguments(argv.Skip(1)).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(Ct);
        return new LabRun(result.ExitCode, result.StandardOutput, result.StandardError);
    }
}
