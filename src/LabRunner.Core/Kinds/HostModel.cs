using LabRunner.Loading;
using LabRunner.Model;

namespace LabRunner.Kinds;

/// <summary>
/// The one model of a lab's host, worked out from the scenario alone (no root, nothing run): which namespaces exist,
/// which containers run and whose network namespace they use, each namespace's links (kind, who made them, veth peer,
/// bridge master, addresses, up or down). Every kind applies itself to it (<see cref="LabAction.Apply"/>,
/// <see cref="Expectation.Check"/>): the validator reports what the kinds found wrong, `graph` and the transcript draw
/// the state it ends in (<see cref="Reporting.LabTopology"/>).
/// </summary>
public sealed class HostModel
{
    /// <summary>The key of the lab's host namespace; others are "netns:NAME" and "container:OWNER".</summary>
    public const string HostKey = "host";

    private readonly HashSet<string> _netns = new(StringComparer.Ordinal);
    private readonly HashSet<string> _everNetns = new(StringComparer.Ordinal);
    // container name -> the container whose network namespace it uses (itself, or the one it joined)
    private readonly Dictionary<string, string> _containers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _everContainers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _symlinked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, ModelLink>> _links = new(StringComparer.Ordinal);
    private readonly List<string> _order = [HostKey];
    private readonly Dictionary<string, string> _labels = new(StringComparer.Ordinal) { [HostKey] = "host" };
    private readonly List<ScenarioError> _findings = [];
    // "PLACE.IFNAME" of every cni-add so far: what ${PLACE.IFNAME.ip} and cni-check may name
    private readonly HashSet<string> _cni = new(StringComparer.Ordinal);
    private int _linkOrder;

    public HostModel(Uplink uplink)
    {
        LinksOf(HostKey)[uplink.Name] = new ModelLink("uplink", createdByLab: false) { Addresses = { uplink.Address }, Up = true, Order = _linkOrder++ };
    }

    /// <summary>What the kinds found wrong so far, in the order they were found.</summary>
    public IReadOnlyList<ScenarioError> Findings => _findings;

    /// <summary>Where the action or expectation being applied was written: findings point there.</summary>
    public SourceSpan At { get; private set; } = SourceSpan.None;

    /// <summary>True while applying an action that must fail: it is checked, but changes nothing.</summary>
    public bool Fails { get; private set; }

    /// <summary>The namespaces that exist now, in the order they were made (host first), with their labels.</summary>
    public IEnumerable<(string Key, string Label)> Namespaces => _order.Select(k => (k, _labels[k]));

    /// <summary>The links of a namespace, loopbacks left out, in the order they were made.</summary>
    public IEnumerable<(string Name, ModelLink Link)> LinksIn(string key) =>
        _links.TryGetValue(key, out var links)
            ? links.Where(l => l.Value.Kind != "loopback").OrderBy(l => l.Value.Order).Select(l => (l.Key, l.Value))
            : [];

    /// <summary>Applies an action at its place in the lab (its own <see cref="LabAction.Apply"/> says what it checks and changes).</summary>
    public void Apply(LabAction action)
    {
        (At, Fails) = (action.Span, action.ExpectedError is not null);
        CheckPids([action.ExpectedError, .. action.Templated]);
        action.Apply(this);
        Fails = false;
    }

    public void Check(Expectation expectation)
    {
        (At, Fails) = (expectation.Span, false);
        CheckPids(expectation.Templated);
        expectation.Check(this);
    }

    public void Error(string message, string? hint = null) => _findings.Add(new(At, message, hint));

    public void Error(SourceSpan span, string message, string? hint = null) => _findings.Add(new(span, message, hint));

    // ---------- namespaces ----------

    /// <summary>The key of the network namespace a place lives in, or null (after reporting) if it does not exist now.</summary>
    public string? Namespace(Place place) => Namespace(place, At);

    public string? Namespace(Place place, SourceSpan span)
    {
        switch (place.Kind)
        {
            case PlaceKind.Host:
                return HostKey;
            case PlaceKind.Netns when _netns.Contains(place.Name):
                return NetnsKey(place.Name);
            case PlaceKind.Netns when place == Place.Wan:
                // There from the start in a sandbox; drawn from the first step that uses it.
                UsesWan = true;
                AddNetns(Place.WanName);
                LinksOf(NetnsKey(Place.WanName))[Place.WanLink] = new ModelLink("uplink", createdByLab: false) { Up = true, Order = _linkOrder++ };
                return NetnsKey(Place.WanName);
            case PlaceKind.Container when _containers.TryGetValue(place.Name, out var owner):
                return ContainerKey(owner);
            default:
                var when = place.Kind == PlaceKind.Netns ? (_everNetns.Contains(place.Name) ? "has been deleted" : "does not exist yet")
                    : (_everContainers.Contains(place.Name) ? "has been stopped" : "is not running yet");
                Error(span, $"{place} {when} at this point", place.Kind == PlaceKind.Netns ? "add 'netns-add' before this step" : "add 'container-run' before this step");
                return null;
        }
    }

    public bool NetnsExists(string name) => _netns.Contains(name);

    /// <summary>Whether the lab works in the sandbox's <see cref="Place.Wan"/> (a lab that does cannot run with --host).</summary>
    public bool UsesWan { get; private set; }

    /// <summary>The model after the whole lab: every action applied and every expectation checked, in order (what validation does).</summary>
    public static HostModel Play(Scenario scenario)
    {
        var host = new HostModel(scenario.Uplink);
        foreach (var step in scenario.Steps)
        {
            foreach (var action in step.Actions) host.Apply(action);
            foreach (var expectation in step.Expectations) host.Check(expectation);
        }
        return host;
    }

    public bool WasNetns(string name) => _everNetns.Contains(name);

    public void AddNetns(string name)
    {
        _netns.Add(name);
        _everNetns.Add(name);
        AddNamespace(NetnsKey(name), $"netns {name}");
    }

    public void DeleteNetns(string name)
    {
        _netns.Remove(name);
        RemoveNamespace(NetnsKey(name));
    }

    // ---------- containers ----------

    public bool IsRunning(string container) => _containers.ContainsKey(container);

    public bool WasContainer(string name) => _everContainers.Contains(name);

    /// <summary>The container whose network namespace <paramref name="container"/> uses, or null when it is not running.</summary>
    public string? OwnerOf(string container) => _containers.GetValueOrDefault(container);

    /// <summary>A container starts in a namespace of its own, or (<paramref name="owner"/>) in another container's.</summary>
    public void StartContainer(string name, string owner)
    {
        _containers[name] = owner;
        _everContainers.Add(name);
        if (owner == name) AddNamespace(ContainerKey(name), $"container {name}");
        else _labels[ContainerKey(owner)] += $", {name}";
    }

    /// <summary>A container stops; its namespace goes when no running container uses it any more.</summary>
    public void StopContainer(string name)
    {
        if (!_containers.Remove(name, out var owner)) return;
        if (!_containers.ContainsValue(owner)) RemoveNamespace(ContainerKey(owner));
    }

    /// <summary>Marks the container's netns as linked into /var/run/netns; false when it already was.</summary>
    public bool Symlink(string container) => _symlinked.Add(container);

    // ---------- CNI attachments ----------

    /// <summary>A <c>cni-add</c> gave <paramref name="place"/> the interface <paramref name="ifname"/>; false when one already had.</summary>
    public bool AddCniAttachment(Place place, string ifname) => _cni.Add($"{place.Name}.{ifname}");

    public bool HasCniAttachment(Place place, string ifname) => _cni.Contains($"{place.Name}.{ifname}");

    // ---------- links ----------

    /// <summary>The link, or null after reporting where it is instead (or that nothing made it).</summary>
    public ModelLink? Link(string key, Place place, string name)
    {
        if (LinksOf(key).TryGetValue(name, out var link)) return link;
        var elsewhere = _links.Where(kv => kv.Value.ContainsKey(name)).Select(kv => kv.Key).FirstOrDefault();
        Error($"link '{name}' does not exist in {place} at this point",
            elsewhere is not null ? $"it is in {Describe(elsewhere)}; add 'in: {InName(elsewhere)}'" : "create it first (veth-add or bridge-add)");
        return null;
    }

    /// <summary>A link this lab may change: on the host, only one the lab created.</summary>
    public ModelLink? OwnLink(string key, Place place, string name, string verb)
    {
        var link = Link(key, place, name);
        if (link is { CreatedByLab: false } && key == HostKey)
        {
            Error($"cannot {verb} '{name}': this lab did not create it", "a lab may only change links it created");
            return null;
        }
        return link;
    }

    /// <summary>A bridge's port to attach or detach: the bridge must be a bridge, the port a link the lab may change.</summary>
    public ModelLink? BridgePort(Place place, string bridge, string port)
    {
        if (Namespace(place) is not { } key) return null;
        if (Link(key, place, bridge) is { Kind: not "bridge" }) Error($"'{bridge}' is not a bridge", "create it with 'bridge-add'");
        return OwnLink(key, place, port, "attach or detach");
    }

    /// <summary>A link made on a parent link of the same place (macvlan, ipvlan, vlan): the parent must be there.</summary>
    public void AddLinkOn(Place place, string parent, string name, ModelLink link)
    {
        if (Namespace(place) is not { } key) return;
        Link(key, place, parent);
        link.Parent = parent;
        if (!Fails) AddLink(key, place, name, link);
    }

    public void AddLink(string key, Place place, string name, ModelLink link)
    {
        var links = LinksOf(key);
        if (links.ContainsKey(name))
        {
            Error($"link '{name}' already exists in {place}", "choose another name, or delete the existing link first; an action that must fail needs 'fails-with'");
            return;
        }
        if (link.Order < 0) link.Order = _linkOrder++;
        links[name] = link;
    }

    /// <summary>A veth pair: each end knows where the other is.</summary>
    public void AddVethPair(string key, Place place, string name, string peerKey, Place peerPlace, string peer)
    {
        AddLink(key, place, name, new ModelLink("veth") { PeerKey = peerKey, PeerName = peer });
        AddLink(peerKey, peerPlace, peer, new ModelLink("veth") { PeerKey = key, PeerName = name });
    }

    /// <summary>A link leaves one namespace for another: it loses its bridge and addresses, and its peer learns where it went.</summary>
    public void MoveLink(string from, string to, Place toPlace, string name, bool up)
    {
        if (!LinksOf(from).Remove(name, out var link)) return;
        link.Master = null;
        link.Addresses.Clear();
        link.Up = up;
        AddLink(to, toPlace, name, link);
        if (link.PeerKey is not null && link.PeerName is not null && LinksOf(link.PeerKey).TryGetValue(link.PeerName, out var peer))
            peer.PeerKey = to;
    }

    /// <summary>A link goes, and with it its veth peer; a bridge's ports lose their master.</summary>
    public void RemoveLink(string key, string name)
    {
        if (!LinksOf(key).Remove(name, out var link)) return;
        if (link.PeerKey is not null && link.PeerName is not null) LinksOf(link.PeerKey).Remove(link.PeerName);
        if (link.Kind == "bridge")
            foreach (var port in LinksOf(key).Values.Where(l => l.Master == name)) port.Master = null;
    }

    private Dictionary<string, ModelLink> LinksOf(string key)
    {
        if (!_links.TryGetValue(key, out var links))
            _links[key] = links = new(StringComparer.Ordinal) { ["lo"] = new ModelLink("loopback", createdByLab: false) };
        return links;
    }

    private void AddNamespace(string key, string label)
    {
        if (_labels.TryAdd(key, label)) _order.Add(key);
    }

    /// <summary>A namespace going away takes its links with it, and a veth's peer in another namespace dies with it.</summary>
    private void RemoveNamespace(string key)
    {
        if (_links.TryGetValue(key, out var links))
            foreach (var name in links.Keys.ToList()) RemoveLink(key, name);
        _links.Remove(key);
        _labels.Remove(key);
        _order.Remove(key);
    }

    /// <summary>
    /// ${NAME.pid} has a value only while container NAME runs: used before its container-run (or after its
    /// container-stop) it would reach the command unexpanded.
    /// </summary>
    private void CheckPids(IEnumerable<string?> texts)
    {
        foreach (var reference in texts.OfType<string>().SelectMany(Templates.References).Distinct())
        {
            if (Templates.CniAttachment(reference, _everContainers.Concat(_everNetns)) is { } attachment)
            {
                if (!_cni.Contains(attachment))
                    Error($"${{{reference}}} is used before a cni-add gave '{attachment[..attachment.LastIndexOf('.')]}' its interface '{attachment[(attachment.LastIndexOf('.') + 1)..]}'",
                        "use it only in steps after that cni-add");
                continue;
            }
            if (!reference.EndsWith(".pid", StringComparison.Ordinal)) continue;
            var name = reference[..^4];
            if (_containers.ContainsKey(name)) continue;
            Error($"${{{reference}}} is used while container '{name}' {(_everContainers.Contains(name) ? "has been stopped" : "is not running yet")}",
                $"use it only after 'container-run: {name}' and before 'container-stop: {name}'");
        }
    }

    private static string NetnsKey(string name) => "netns:" + name;

    private static string ContainerKey(string owner) => "container:" + owner;

    private static string Describe(string key) => key == HostKey ? "host" : key.Replace(":", " ");

    private static string InName(string key) => key == HostKey ? "host" : key[(key.IndexOf(':') + 1)..];
}

/// <summary>A link in the <see cref="HostModel"/>.</summary>
public sealed class ModelLink(string kind, bool createdByLab = true)
{
    /// <summary>veth, bridge, "vxlan ID", uplink, loopback.</summary>
    public string Kind { get; } = kind;

    public bool CreatedByLab { get; } = createdByLab;

    public string? PeerKey { get; set; }

    public string? PeerName { get; set; }

    public string? Master { get; set; }

    /// <summary>The link it was made on (a macvlan's, ipvlan's or vlan's parent, in the same namespace when made).</summary>
    public string? Parent { get; set; }

    public List<string> Addresses { get; } = [];

    public bool Up { get; set; }

    /// <summary>When it was made, for drawing links in a stable order; -1 until added.</summary>
    public int Order { get; set; } = -1;
}
