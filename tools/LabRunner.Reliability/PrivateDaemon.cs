using System.Diagnostics;
using LabRunner.Platform;

namespace LabRunner.Reliability;

/// <summary>
/// A containerd (and optionally a dockerd on top of it) of the test's own, in a temporary directory, so a spec can kill
/// and restart a daemon without touching the machine's. LabRunner is pointed at it with CONTAINERD_ADDRESS / DOCKER_HOST.
/// Stopped, unmounted and removed on dispose.
/// </summary>
public sealed class PrivateDaemon : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lr-daemon-").FullName;
    private Process? _containerd;
    private Process? _dockerd;

    public string ContainerdSocket => Path.Combine(_dir, "containerd.sock");

    public string DockerSocket => Path.Combine(_dir, "docker.sock");

    private string DockerData => Path.Combine(_dir, "docker-data");

    /// <summary>What labrunner needs in its environment to use these daemons.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
    {
        ["CONTAINERD_ADDRESS"] = ContainerdSocket,
        ["DOCKER_HOST"] = $"unix://{DockerSocket}",
    };

    public async Task StartContainerdAsync(CancellationToken ct)
    {
        File.WriteAllText(Path.Combine(_dir, "containerd.toml"), "");
        _containerd = Start("containerd", ["--config", Path.Combine(_dir, "containerd.toml"), "--address", ContainerdSocket,
            "--root", Path.Combine(_dir, "containerd-root"), "--state", Path.Combine(_dir, "containerd-state")], "containerd.log");
        await WaitAsync(() => Run("ctr", "--address", ContainerdSocket, "version") == 0, "containerd", ct);
    }

    public async Task StartDockerdAsync(CancellationToken ct)
    {
        File.WriteAllText(Path.Combine(_dir, "daemon.json"), "{}");
        _dockerd = Start("dockerd", ["--config-file", Path.Combine(_dir, "daemon.json"), "--data-root", DockerData, "--exec-root", Path.Combine(_dir, "docker-exec"),
            "--pidfile", Path.Combine(_dir, "docker.pid"), "-H", $"unix://{DockerSocket}", "--containerd", ContainerdSocket,
            "--bridge=none", "--iptables=false", "--ip-forward=false", "--ip-masq=false"], "dockerd.log");
        await WaitAsync(() => Run("docker", "-H", $"unix://{DockerSocket}", "version") == 0, "dockerd", ct);
    }

    /// <summary>SIGKILL, as a crash or the OOM killer would: no shutdown of its own.</summary>
    public void KillContainerd() => Kill(ref _containerd);

    public void KillDockerd() => Kill(ref _dockerd);

    /// <summary>The containers the daemon holds now (containerd's default namespace, or Docker's, all states).</summary>
    public string[] Containers(string runtime) =>
        Lines(runtime == "docker" ? ["docker", "-H", $"unix://{DockerSocket}", "ps", "-aq"] : ["ctr", "--address", ContainerdSocket, "-n", "default", "containers", "ls", "-q"]);

    public async ValueTask DisposeAsync()
    {
        // Whatever a failed spec left: containers whose shims would outlive the daemon (Docker's are in "moby"). A
        // killed containerd is started again for that.
        if (_containerd is null && File.Exists(Path.Combine(_dir, "containerd.toml"))) await StartContainerdAsync(CancellationToken.None);
        if (_containerd is not null)
            foreach (var ns in new[] { "default", "moby" })
            foreach (var id in Lines("ctr", "--address", ContainerdSocket, "-n", ns, "containers", "ls", "-q").Where(l => !l.StartsWith("exit ", StringComparison.Ordinal)))
            {
                Run("ctr", "--address", ContainerdSocket, "-n", ns, "tasks", "rm", "-f", id);
                Run("ctr", "--address", ContainerdSocket, "-n", ns, "containers", "rm", id);
            }
        Stop(ref _dockerd);
        Stop(ref _containerd);
        // dockerd bind-mounts its data root onto itself and leaves that mount when it is killed.
        foreach (var mount in File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(_dir, StringComparison.Ordinal)).OrderByDescending(m => m.Length).ToList())
            Run("umount", mount);
        lock (_dir) Directory.Delete(_dir, recursive: true);
    }

    private Process Start(string file, string[] args, string log)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        var process = Process.Start(info)!;
        var path = Path.Combine(_dir, log);
        void Append(string? line)
        {
            if (line is null) return;
            lock (_dir)
                if (Directory.Exists(_dir)) File.AppendAllText(path, line + "\n");
        }
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Kill(ref Process? process)
    {
        if (process is null) return;
        Processes.Signal(process.Id, Processes.SIGKILL);
        process.WaitForExit();
        process.Dispose();
        process = null;
    }

    /// <summary>SIGTERM (a daemon's clean shutdown), SIGKILL after 20 s.</summary>
    private static void Stop(ref Process? process)
    {
        if (process is null) return;
        Processes.Signal(process.Id, Processes.SIGTERM);
        if (!process.WaitForExit(TimeSpan.FromSeconds(20))) Processes.Signal(process.Id, Processes.SIGKILL);
        process.WaitForExit();
        process.Dispose();
        process = null;
    }

    private static async Task WaitAsync(Func<bool> ready, string what, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!ready())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the test's {what} did not answer within 30 s");
            await Task.Delay(200, ct);
        }
    }

    private static int Run(params string[] argv) => Execute(argv).ExitCode;

    private static string[] Lines(params string[] argv)
    {
        var (exitCode, output) = Execute(argv);
        return exitCode == 0 ? output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [$"exit {exitCode}"];
    }

    private static (int ExitCode, string Output) Execute(string[] argv)
    {
        using var p = Process.Start(new ProcessStartInfo(argv[0], argv[1..]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        stderr.Wait();
        p.WaitForExit();
        return (p.ExitCode, output);
    }
}
