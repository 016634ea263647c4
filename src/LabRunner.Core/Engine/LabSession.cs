using LabRunner.Execution;
using LabRunner.Loading;
using LabRunner.Model;
using LabRunner.Runtimes;

namespace LabRunner.Engine;

/// <summary>
/// The live names of one run: which physical namespace a scenario name stands for, each container's PID.
/// Scenarios speak symbolically (n1, busybox-1, ${busybox-1.pid}); only this class knows the real names.
/// </summary>
public sealed class LabSession
{
    private readonly Dictionary<string, ContainerHandle> _containers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    public LabSession(string labId, bool sandbox, Uplink uplink)
    {
        LabId = labId;
        Sandbox = sandbox;
        Uplink = uplink;
        UplinkIp = uplink.Ip;
        HostNetns = sandbox ? $"lr-{labId}" : null;
        Host = HostNetns is null ? new CallerTarget("host") : new NamedNetnsTarget("host", HostNetns);
    }

    public string LabId { get; }

    /// <summary>
    /// Runs a capture's ping that is on another host of a lab across hosts (<see cref="CaptureTraffic.OnHost"/>): in a
    /// host's part, the controller has that host run it (<see cref="LabOptions.OtherHostTraffic"/>); null elsewhere.
    /// </summary>
    public Func<CaptureTraffic, CancellationToken, Task<CommandOutcome>>? OtherHostTraffic { get; init; }

    /// <summary>True when the lab's host is a namespace of its own; false with --host.</summary>
    public bool Sandbox { get; }

    /// <summary>The sandbox host's netns name, or null with --host.</summary>
    public string? HostNetns { get; }

    /// <summary>The sandbox's far side of the uplink (the network the article's ens3 leads to).</summary>
    /// <remarks>'_' and not '-': lab namespaces are lr-ID-NAME, so no scenario name can clash with it.</remarks>
    public string? WanNetns => Sandbox ? $"lr-{LabId}_wan" : null;

    public NetTarget Host { get; }

    public Uplink Uplink { get; }

    /// <summary>The uplink's IPv4 address: the scenario's in a sandbox, read off the interface with --host.</summary>
    public string UplinkIp { get; set; }

    public IReadOnlyDictionary<string, ContainerHandle> Containers => _containers;

    /// <summary>
    /// In a sandbox, lab namespaces get the lab id as prefix so that two labs never share a /var/run/netns name;
    /// with --host they keep the scenario's names, as in the article.
    /// </summary>
    public string PhysicalNetns(string name) =>
        name != Place.WanName ? PhysicalName(name)
        : WanNetns ?? throw new InvalidOperationException("'wan' is the sandbox's far side of the uplink; the --host preflight should have refused this lab");

    /// <summary>A machine-wide name (netns, runtime container id) for a scenario name: prefixed in a sandbox.</summary>
    public string PhysicalName(string name) => Sandbox ? $"lr-{LabId}-{name}" : name;

    /// <summary>True the first time this run asks about <paramref name="key"/> (e.g. a user chain a kind may have to create).</summary>
    public bool FirstTime(string key) => _seen.Add(key);

    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    /// <summary>A value learnt at run time for a placeholder (a CNI result's <c>busybox-1.eth0.ip</c>).</summary>
    public void Define(string reference, string value) => _values[reference] = value;

    public void AddContainer(ContainerHandle handle) => _containers[handle.Name] = handle;

    public void RemoveContainer(string name) => _containers.Remove(name);

    public bool HasContainer(string name) => _containers.ContainsKey(name);

    public ContainerHandle Container(string name) =>
        _containers.TryGetValue(name, out var handle)
            ? handle
            : throw new InvalidOperationException($"container {name} is not running; the validator should have caught this");

    public NetTarget Target(Place place) => place.Kind switch
    {
        PlaceKind.Host => Host,
        PlaceKind.Netns => new NamedNetnsTarget(place.Name, PhysicalNetns(place.Name)),
        _ => new PidTarget(place.Name, Container(place.Name).Pid),
    };

    public string Expand(string text) => Templates.Expand(text, reference =>
        reference == Templates.UplinkIp ? UplinkIp
        : reference.EndsWith(".pid", StringComparison.Ordinal) && _containers.TryGetValue(reference[..^4], out var c) ? c.Pid
        : _values.TryGetValue(reference, out var value) ? value
        : $"${{{reference}}}");
}
