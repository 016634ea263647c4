using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// A machine that cannot run labs gets exit 3 and one or two lines: the cause, and the fix. Nothing is touched.
/// </summary>
public sealed class EnvironmentErrorSpecs
{
    private static readonly string Containers = LabCli.Scenario("article/02-container-host.yaml");

    private static void AssertEnvironmentError(LabRun run, string cause, string fix)
    {
        Assert.True(run.ExitCode == 3, run.ToString());
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length is 1 or 2, $"expected one or two lines, got:\n{run.Stderr}");
        Assert.StartsWith("environment: ", lines[0]);
        Assert.Contains(cause, lines[0]);
        Assert.Contains(fix, string.Join('\n', lines));
        Assert.DoesNotContain("$ ip", run.Stdout); // nothing ran
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Not_root_exits_3_saying_so_and_how_to_fix_it()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        // Run from a world-readable copy: the checkout may live where nobody cannot read (e.g. under /root).
        using var copy = new ReadableCopy();
        var scenario = copy.Add(LabCli.Scenario("article/article.yaml"));

        var run = await LabCli.RunAsync(["run", scenario], new Dictionary<string, string?> { ["HOME"] = "/nonexistent", ["DOTNET_CLI_HOME"] = "/tmp" },
            prefix: ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"], dll: copy.Dll, ct: ct);

        AssertEnvironmentError(run, "labrunner run needs root", "run it with sudo, or as root in a VM");
    }

    [Fact]
    public async Task A_missing_iproute2_exits_3_with_the_package_to_install()
    {
        Root.Require();
        var ct = TestContext.Current.CancellationToken;
        var bin = Directory.CreateTempSubdirectory("lr-path-").FullName;
        try
        {
            // Every tool a lab needs, and dotnet, but not ip.
            foreach (var tool in new[] { "dotnet", "env", "nsenter", "unshare", "setsid", "busybox", "sysctl", "ln", "kill", "iptables", "tcpdump" })
                if (Engine.EnvironmentCheck.FindOnPath(tool) is { } path) File.CreateSymbolicLink(Path.Combine(bin, tool), path);
            var before = HostSnapshot.Take();

            var run = await LabCli.RunAsync(["run", LabCli.Scenario("article/article.yaml")], new Dictionary<string, string?> { ["PATH"] = bin }, ct: ct);

            AssertEnvironmentError(run, "missing tools: ip;", "apt-get install -y iproute2");
            Assert.Empty(before.Diff(HostSnapshot.Take()));
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
        }
    }

    [Fact]
    public async Task A_containerd_socket_that_is_not_there_exits_3_naming_it()
    {
        Root.Require();
        var socket = $"/tmp/lr-no-containerd-{Guid.NewGuid():N}.sock";

        var run = await LabCli.RunAsync(["run", Containers, "--runtime", "containerd"], new Dictionary<string, string?> { ["CONTAINERD_ADDRESS"] = socket },
            ct: TestContext.Current.CancellationToken);

        AssertEnvironmentError(run, $"containerd is not running: there is no socket at {socket}", "start containerd on");
    }

    [Fact]
    public async Task A_docker_socket_that_is_not_there_exits_3_naming_it()
    {
        Root.Require();
        var socket = $"/tmp/lr-no-docker-{Guid.NewGuid():N}.sock";

        var run = await LabCli.RunAsync(["run", Containers, "--runtime", "docker"], new Dictionary<string, string?> { ["DOCKER_HOST"] = "unix://" + socket },
            ct: TestContext.Current.CancellationToken);

        AssertEnvironmentError(run, $"Docker is not running: there is no socket at {socket}", "start dockerd on");
    }

    [Theory]
    [InlineData("1.11", "too old")]
    [InlineData("1.99", "too new")]
    public async Task A_Docker_API_version_the_daemon_refuses_exits_3_with_the_version_to_use(string version, string why)
    {
        Root.Require("docker");
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", Containers, "--runtime", "docker"], new Dictionary<string, string?> { ["DOCKER_API_VERSION"] = version },
            ct: TestContext.Current.CancellationToken);

        AssertEnvironmentError(run, $"refuses API {version}: client version {version} is {why}", "unset DOCKER_API_VERSION");
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public async Task A_DOCKER_API_VERSION_that_is_not_a_version_exits_3()
    {
        Root.Require();
        var run = await LabCli.RunAsync(["run", Containers, "--runtime", "docker"], new Dictionary<string, string?> { ["DOCKER_API_VERSION"] = "latest" },
            ct: TestContext.Current.CancellationToken);

        AssertEnvironmentError(run, "DOCKER_API_VERSION='latest' is not an API version", "unset DOCKER_API_VERSION");
    }

    /// <summary>labrunner's build output and scenarios copied where any user can read them.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private sealed class ReadableCopy : IDisposable
    {
        private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("lr-readable-");

        public ReadableCopy()
        {
            var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                       UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
            _dir.UnixFileMode = mode;
            foreach (var file in Directory.GetFiles(AppContext.BaseDirectory))
                File.Copy(file, Path.Combine(_dir.FullName, Path.GetFileName(file)));
            foreach (var file in _dir.GetFiles()) file.UnixFileMode = mode;
        }

        public string Dll => Path.Combine(_dir.FullName, "labrunner.dll");

        public string Add(string file)
        {
            var copy = Path.Combine(_dir.FullName, Path.GetFileName(file));
            File.Copy(file, copy);
            File.SetUnixFileMode(copy, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            return copy;
        }

        public void Dispose() => _dir.Delete(recursive: true);
    }
}
