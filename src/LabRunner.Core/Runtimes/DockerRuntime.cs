using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Docker.DotNet;
using Docker.DotNet.Models;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using LabRunner.Engine;
using LabRunner.Execution;
using LabRunner.Journal;
using Microsoft.Extensions.Logging.Abstractions;

namespace LabRunner.Runtimes;

/// <summary>
/// Docker through the Engine API: containers are built with Testcontainers for .NET, and inspected, removed and
/// imported with the Docker.DotNet client that comes with it. Network mode "none" (only lo, as in the article) and
/// NET_ADMIN; "container:ID" for the container that joins another's namespace; label labrunner.lab=LABID.
/// The transcript shows the docker CLI command equivalent to each API call.
/// </summary>
public sealed class DockerRuntime : IContainerRuntime, IDisposable
{
    public const string DefaultSocket = "/var/run/docker.sock";

    /// <summary>Docker's socket: the path of a unix:// $DOCKER_HOST when set (as the docker CLI and Testcontainers read it), else the default.</summary>
    public static string Socket =>
        Environment.GetEnvironmentVariable("DOCKER_HOST") is { } host && host.StartsWith("unix://", StringComparison.Ordinal) ? host["unix://".Length..] : DefaultSocket;

    /// <summary>Debian 12's Docker (20.10) speaks API 1.41 at most; newer clients must be told.</summary>
    public const string ApiVersion = "1.41";

    private readonly ICommandRunner _runner;
    private readonly Action<CommandEvent>? _onCommand;
    private readonly ConcurrentDictionary<string, IContainer> _started = new();
    private readonly Lazy<IDockerClient> _client;
    private readonly string? _versionProblem;

    public DockerRuntime(ICommandRunner runner, Action<CommandEvent>? onCommand = null)
    {
        _runner = runner;
        _onCommand = onCommand;
        // Set before Testcontainers reads its configuration. Ryuk, its reaper, is an image that cannot be pulled
        // here; LabRunner's own journal does the reaping.
        if (Environment.GetEnvironmentVariable("DOCKER_API_VERSION") is null) Environment.SetEnvironmentVariable("DOCKER_API_VERSION", ApiVersion);
        Environment.SetEnvironmentVariable("TESTCONTAINERS_RYUK_DISABLED", "true");
        TestcontainersSettings.ResourceReaperEnabled = false;
        var requested = Environment.GetEnvironmentVariable("DOCKER_API_VERSION")!;
        if (!System.Version.TryParse(requested, out var version))
        {
            _versionProblem = $"DOCKER_API_VERSION='{requested}' is not an API version";
            version = System.Version.Parse(ApiVersion);
        }
        _client = new Lazy<IDockerClient>(() => new DockerClientBuilder().WithEndpoint(new Uri($"unix://{Socket}")).WithApiVersion(version).Build());
    }

    public string Name => "docker";

    public async Task PrepareAsync(CancellationToken ct = default)
    {
        var api = Environment.GetEnvironmentVariable("DOCKER_API_VERSION");
        if (_versionProblem is not null)
            throw new EnvironmentProblemException(_versionProblem, $"unset DOCKER_API_VERSION, or set it to a version such as {ApiVersion}");
        if (!_runner.IsDryRun && !File.Exists(Socket))
            throw new EnvironmentProblemException($"Docker is not running: there is no socket at {Socket}", StartFix());
        try
        {
            await Api(["docker", "version"], CommandPurpose.Setup, () => _client.Value.System.GetVersionAsync(ct));
        }
        catch (DockerApiException e) when (e.ResponseBody is { } body && (body.Contains("too old", StringComparison.Ordinal) || body.Contains("too new", StringComparison.Ordinal)))
        {
            // The daemon answers, but not in the API version asked for (DOCKER_API_VERSION).
            throw new EnvironmentProblemException($"Docker on {Socket} refuses API {api}: {OneLine(e.ResponseBody!)}",
                $"unset DOCKER_API_VERSION (LabRunner then uses {ApiVersion}, what Debian 12's Docker 20.10 speaks), or set it to a version the daemon supports");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new EnvironmentProblemException($"Docker does not answer on {Socket} (API {api}): {OneLine(e.GetBaseException().Message)}", StartFix());
        }
        if (await ImageExistsAsync(ct)) return;
        await SeedImageAsync(ct);
    }

    private async Task<bool> ImageExistsAsync(CancellationToken ct)
    {
        try
        {
            await _client.Value.Images.InspectImageAsync(BusyboxImage.Reference, ct);
            return true;
        }
        catch (DockerImageNotFoundException)
        {
            return false;
        }
    }

    public async Task SeedImageAsync(CancellationToken ct = default)
    {
        var rootfs = await BusyboxImage.GzippedRootfsAsync(_runner, ct);
        await Api(["docker", "import", "-", BusyboxImage.Reference], CommandPurpose.Setup, async () =>
        {
            var parameters = new ImagesCreateParameters { FromSrc = "-", Repo = "docker.io/library/busybox", Tag = "latest" };
            await _client.Value.Images.CreateImageAsync(parameters, new MemoryStream(rootfs), null, new Progress<JSONMessage>(), ct);
            return true;
        });
        if (!await ImageExistsAsync(ct))
            throw new EnvironmentProblemException("Docker did not keep the imported busybox image", "check dockerd's log");
    }

    public async Task<ContainerHandle> StartAsync(ContainerStartRequest request, LabJournal journal, CancellationToken ct = default)
    {
        // Write-ahead: the container's name is chosen before it exists.
        var seq = journal.Append(new UndoRemoveContainer($"remove container {request.Name}", Name, request.Id) { Resource = ActionExecutor.ContainerResource(request.Id) });
        var network = request.ShareNetnsWith is { } owner ? $"container:{owner.Id}" : "none";
        string[] shown = ["docker", "run", "-d", "--name", request.Id, "--network", network, "--cap-add", "NET_ADMIN",
            "--label", $"{ContainerdRuntime.LabLabel}={request.LabId}", BusyboxImage.Reference, "sleep", "2147483647"];
        if (_runner.IsDryRun)
        {
            Report(shown, CommandPurpose.Action, new CommandOutcome(0, "", "", TimeSpan.Zero));
            return new ContainerHandle(request.Name, request.Id, $"<{request.Name}.pid>");
        }

        var container = new ContainerBuilder(BusyboxImage.Reference)
            .WithName(request.Id)
            .WithLogger(NullLogger.Instance) // the transcript shows the docker command; Testcontainers' own log is noise here
            .WithLabel(ContainerdRuntime.LabLabel, request.LabId)
            .WithCommand("sleep", "2147483647")
            .WithImagePullPolicy(_ => false) // seeded offline by PrepareAsync; there is no registry to pull from
            .WithCreateParameterModifier(p =>
            {
                p.HostConfig ??= new HostConfig();
                p.HostConfig.NetworkMode = network;
                p.HostConfig.CapAdd = ["NET_ADMIN"];
            })
            .Build();
        _started[request.Id] = container;
        var pid = await Api(shown, CommandPurpose.Action, async () =>
        {
            try
            {
                await container.StartAsync(ct);
            }
            catch (DockerApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                // The name is taken by a container that was there before: someone else's, which teardown must not remove.
                journal.Cancel(seq);
                _started.TryRemove(request.Id, out _);
                throw new ContainerStartException($"container {request.Name} did not start: {OneLine(e.ResponseBody ?? e.Message)}");
            }
            var inspect = await _client.Value.Containers.InspectContainerAsync(container.Id, ct);
            return inspect.State?.Pid.ToString(CultureInfo.InvariantCulture)
                   ?? throw new ContainerStartException($"Docker reports no state for container {request.Name}");
        });
        return new ContainerHandle(request.Name, request.Id, pid);
    }

    public async Task<CommandOutcome> ExecAsync(ContainerHandle container, IReadOnlyList<string> argv, CommandPurpose purpose, CancellationToken ct = default)
    {
        string[] shown = ["docker", "exec", container.Id, .. argv];
        if (_runner.IsDryRun || !_started.TryGetValue(container.Id, out var started))
        {
            var outcome = new CommandOutcome(_runner.IsDryRun ? 0 : 1, "", _runner.IsDryRun ? "" : $"container {container.Id} was not started by this run", TimeSpan.Zero);
            Report(shown, purpose, outcome);
            return outcome;
        }
        var watch = Stopwatch.StartNew();
        var result = await started.ExecAsync([.. argv], ct);
        var done = new CommandOutcome((int)(result.ExitCode ?? 1), result.Stdout, result.Stderr, watch.Elapsed);
        Report(shown, purpose, done);
        return done;
    }

    public async Task StopAsync(ContainerHandle container, CancellationToken ct = default)
    {
        if (await RemoveAsync(container.Id, ct) is { } problem) throw new ContainerStartException(problem);
    }

    public async Task<string?> RemoveAsync(string id, CancellationToken ct = default)
    {
        _started.TryRemove(id, out _);
        try
        {
            await Api(["docker", "rm", "-f", id], CommandPurpose.Teardown, async () =>
            {
                if (!_runner.IsDryRun) await _client.Value.Containers.RemoveContainerAsync(id, new ContainerRemoveParameters { Force = true }, ct);
                return true;
            });
            return null;
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
        {
            return $"`docker rm -f {id}` failed: {e.Message}";
        }
    }

    public async Task<Presence> FindAsync(string id, CancellationToken ct = default)
    {
        if (!File.Exists(Socket)) return Presence.Unknown(NotRunning());
        try
        {
            await _client.Value.Containers.InspectContainerAsync(id, ct);
            return Presence.Present;
        }
        catch (DockerContainerNotFoundException)
        {
            return Presence.Absent;
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or TimeoutException)
        {
            return Presence.Unknown($"Docker does not answer on {Socket}: {OneLine(e.GetBaseException().Message)}");
        }
    }

    public async Task<LabContainers> ListLabAsync(string labId, CancellationToken ct = default)
    {
        if (!File.Exists(Socket)) return LabContainers.Unknown(NotRunning());
        try
        {
            var listed = await _client.Value.Containers.ListContainersAsync(new ContainersListParameters
            {
                All = true,
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["label"] = new Dictionary<string, bool> { [$"{ContainerdRuntime.LabLabel}={labId}"] = true } },
            }, ct);
            var found = new List<LabContainer>();
            foreach (var c in listed)
            {
                var inspect = await _client.Value.Containers.InspectContainerAsync(c.ID, ct);
                found.Add(new LabContainer(c.Names.FirstOrDefault()?.TrimStart('/') ?? c.ID, inspect.State is { Running: true, Pid: > 0 } s ? (int)s.Pid : null));
            }
            return new LabContainers(found);
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException or TimeoutException)
        {
            return LabContainers.Unknown($"Docker does not answer on {Socket}: {OneLine(e.GetBaseException().Message)}");
        }
    }

    public bool MayHoldContainers => File.Exists(Socket);

    private static string NotRunning() => $"Docker is not running (no socket at {Socket})";

    private static string StartFix() =>
        Socket == DefaultSocket
            ? "start it with `bash vagrant/provision.sh --runtimes` (starts dockerd without touching this machine's iptables, bridge or forwarding), or `systemctl start docker`"
            : $"start dockerd on {Socket}, or unset DOCKER_HOST to use {DefaultSocket}";

    /// <summary>The daemon's JSON error body ({"message":"..."}) as one line.</summary>
    private static string OneLine(string text)
    {
        try
        {
            if (System.Text.Json.JsonDocument.Parse(text).RootElement.TryGetProperty("message", out var m)) text = m.GetString() ?? text;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return text.Trim().ReplaceLineEndings(" ");
    }

    public void Dispose()
    {
        if (_client.IsValueCreated) _client.Value.Dispose();
    }

    /// <summary>Runs an API call and reports it as the docker command it stands for, with its outcome.</summary>
    private async Task<T> Api<T>(string[] shown, CommandPurpose purpose, Func<Task<T>> call)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var result = await call();
            Report(shown, purpose, new CommandOutcome(0, result?.ToString() ?? "", "", watch.Elapsed));
            return result;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Report(shown, purpose, new CommandOutcome(1, "", e.GetBaseException().Message, watch.Elapsed));
            throw;
        }
    }

    // Pings observed alongside each other exec at once; observers see one command at a time.
    private void Report(string[] shown, CommandPurpose purpose, CommandOutcome outcome)
    {
        lock (_report) _onCommand?.Invoke(new CommandEvent(purpose, [.. shown], outcome));
    }

    private readonly Lock _report = new();
}
