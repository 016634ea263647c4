using System.Collections.Immutable;
using LabRunner.Model;

namespace LabRunner.Loading;

/// <summary>
/// Checks a scenario's flow before anything runs, by playing it on a model of the host: a name must exist
/// before it is used, cannot be created twice, and a lab may change only what it created. Works on the model,
/// so labs written in YAML and in C# get the same checks.
/// </summary>
public static class ScenarioValidator
{
    public static ImmutableArray<ScenarioError> Validate(Scenario scenario)
    {
        var sim = new Simulation(scenario.Uplink);
        foreach (var step in scenario.Steps)
        {
            foreach (var action in step.Actions) sim.Apply(action);
            foreach (var expectation in step.Expectations) sim.Check(expectation);
        }
        return [.. sim.Errors];
    }

    private sealed record SimLink(string Kind, bool CreatedByLab, string? PeerKey, string? PeerName);

    private sealed class Simulation
    {
        private const string HostKey = "host";
        private readonly HashSet<string> _netns = new(StringComparer.Ordinal);
        private readonly HashSet<string> _everNetns = new(StringComparer.Ordinal);
        // container name -> the container whose network namespace it uses (itself, or the one it joined)
        private readonly Dictionary<string, string> _containers = new(StringComparer.Ordinal);
        private readonly HashSet<string> _everContainers = new(StringComparer.Ordinal);
        private readonly HashSet<string> _symlinked = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Dictionary<string, SimLink>> _links = new(StringComparer.Ordinal);

        public Simulation(Uplink uplink)
        {
            _links[HostKey] = new(StringComparer.Ordinal)
            {
                ["lo"] = new("loopback", false, null, null),
                [uplink.Name] = new("uplink", false, null, null),
            };
        }

        public List<ScenarioError> Errors { get; } = [];

        private void Error(SourceSpan span, string message, string? hint = null) => Errors.Add(new(span, message, hint));

        /// <summary>The key of the network namespace a place lives in, or null (after reporting) if it does not exist now.</summary>
        private string? Key(Place place, SourceSpan span)
        {
            switch (place.Kind)
            {
                case PlaceKind.Host:
                    return HostKey;
                case PlaceKind.Netns when _netns.Contains(place.Name):
                    return "netns:" + place.Name;
                case PlaceKind.Container when _containers.TryGetValue(place.Name, out var owner):
                    return "container:" + owner;
                default:
                    var when = place.Kind == PlaceKind.Netns ? (_everNetns.Contains(place.Name) ? "has been deleted" : "does not exist yet")
                        : (_everContainers.Contains(place.Name) ? "has been stopped" : "is not running yet");
                    Error(span, $"{place} {when} at this point", place.Kind == PlaceKind.Netns ? "add 'netns-add' before this step" : "add 'container-run' before this step");
                    return null;
            }
        }

        private Dictionary<string, SimLink> LinksOf(string key)
        {
            if (!_links.TryGetValue(key, out var links)) _links[key] = links = new(StringComparer.Ordinal) { ["lo"] = new("loopback", false, null, null) };
            return links;
        }

        private SimLink? Link(string key, Place place, string name, SourceSpan span)
        {
            if (LinksOf(key).TryGetValue(name, out var link)) return link;
            var elsewhere = _links.Where(kv => kv.Value.ContainsKey(name)).Select(kv => kv.Key).FirstOrDefault();
            Error(span, $"link '{name}' does not exist in {place} at this point",
                elsewhere is not null ? $"it is in {Describe(elsewhere)}; add 'in: {InName(elsewhere)}'" : "create it first (veth-add or bridge-add)");
            return null;
        }

        private SimLink? OwnLink(string key, Place place, string name, SourceSpan span, string verb)
        {
            var link = Link(key, place, name, span);
            if (link is { CreatedByLab: false } && key == HostKey)
            {
                Error(span, $"cannot {verb} '{name}': this lab did not create it", "a lab may only change links it created");
                return null;
            }
            return link;
        }

        private static string Describe(string key) => key == HostKey ? "host" : key.Replace(":", " ");

        private static string InName(string key) => key == HostKey ? "host" : key[(key.IndexOf(':') + 1)..];

        private void AddLink(string key, Place place, string name, SimLink link, SourceSpan span)
        {
            var links = LinksOf(key);
            if (links.ContainsKey(name))
            {
                Error(span, $"link '{name}' already exists in {place}", "choose another name, or delete the existing link first; an action that must fail needs 'fails-with'");
                return;
            }
            links[name] = link;
        }

        private void RemoveLink(string key, string name)
        {
            if (!LinksOf(key).Remove(name, out var link)) return;
            if (link.PeerKey is not null && link.PeerName is not null) LinksOf(link.PeerKey).Remove(link.PeerName);
        }

        private void RemoveNamespace(string key)
        {
            if (!_links.Remove(key, out var links)) return;
            foreach (var link in links.Values)
                if (link.PeerKey is not null && link.PeerName is not null && _links.TryGetValue(link.PeerKey, out var peerLinks))
                    peerLinks.Remove(link.PeerName);
        }

        /// <summary>
        /// ${NAME.pid} has a value only while container NAME runs: used before its container-run (or after its
        /// container-stop) it would reach the command unexpanded.
        /// </summary>
        private void CheckPids(SourceSpan span, IEnumerable<string?> texts)
        {
            foreach (var reference in texts.OfType<string>().SelectMany(Templates.References).Distinct())
            {
                if (!reference.EndsWith(".pid", StringComparison.Ordinal)) continue;
                var name = reference[..^4];
                if (_containers.ContainsKey(name)) continue;
                Error(span, $"${{{reference}}} is used while container '{name}' {(_everContainers.Contains(name) ? "has been stopped" : "is not running yet")}",
                    $"use it only after 'container-run: {name}' and before 'container-stop: {name}'");
            }
        }

        public void Apply(LabAction action)
        {
            var span = action.Span;
            CheckPids(span, action is RunCommand rc ? [action.ExpectedError, .. rc.Argv, .. rc.Undo ?? []] : [action.ExpectedError]);
            var fails = action.ExpectedError is not null; // an action that must fail changes nothing
            switch (action)
            {
                case NetnsAdd a:
                    if (_netns.Contains(a.Name) && !fails) Error(span, $"netns '{a.Name}' already exists", "delete it first, or choose another name");
                    if (_everContainers.Contains(a.Name)) Error(span, $"'{a.Name}' is already a container name", "netns and container names must differ");
                    if (!fails) { _netns.Add(a.Name); _everNetns.Add(a.Name); }
                    break;
                case NetnsDelete a:
                    if (!_netns.Contains(a.Name)) Error(span, $"netns '{a.Name}' does not exist at this point");
                    else if (!fails) { _netns.Remove(a.Name); RemoveNamespace("netns:" + a.Name); }
                    break;
                case VethAdd a:
                {
                    var key = Key(a.In, span);
                    var peerKey = a.PeerIn is null ? key : Key(a.PeerIn, span);
                    if (key is null || peerKey is null || fails) break;
                    if (a.Name == a.Peer && key == peerKey) { Error(span, $"a veth pair needs two names, both are '{a.Name}'"); break; }
                    AddLink(key, a.In, a.Name, new("veth", true, peerKey, a.Peer), span);
                    AddLink(peerKey, a.PeerIn ?? a.In, a.Peer, new("veth", true, key, a.Name), span);
                    break;
                }
                case BridgeAdd a:
                    if (Key(a.In, span) is { } bk && !fails) AddLink(bk, a.In, a.Name, new("bridge", true, null, null), span);
                    break;
                case VxlanAdd a:
                    if (Key(a.In, span) is not { } vk) break;
                    if (a.Dev is not null) Link(vk, a.In, a.Dev, span); // the underlay link must be there
                    if (!fails) AddLink(vk, a.In, a.Name, new("vxlan", true, null, null), span);
                    break;
                case LinkSetState a:
                    if (Key(a.In, span) is { } sk) OwnLink(sk, a.In, a.Name, span, a.Up ? "set up" : "set down");
                    break;
                case LinkMove a:
                {
                    var from = Key(a.From, span);
                    var to = Key(a.To, span);
                    if (from is null || to is null) break;
                    var link = OwnLink(from, a.From, a.Name, span, "move");
                    if (link is null || fails) break;
                    if (link.Kind == "bridge") Error(span, "a bridge cannot change network namespace", "move a veth end instead");
                    LinksOf(from).Remove(a.Name);
                    AddLink(to, a.To, a.Name, link, span);
                    if (link.PeerKey is not null && link.PeerName is not null && LinksOf(link.PeerKey).TryGetValue(link.PeerName, out var peer))
                        LinksOf(link.PeerKey)[link.PeerName] = peer with { PeerKey = to };
                    break;
                }
                case LinkDelete a:
                    if (Key(a.In, span) is { } dk && OwnLink(dk, a.In, a.Name, span, "delete") is not null && !fails) RemoveLink(dk, a.Name);
                    break;
                case BridgeAttach a:
                    CheckBridgePort(a.Bridge, a.Link, a.In, span);
                    break;
                case BridgeDetach a:
                    CheckBridgePort(a.Bridge, a.Link, a.In, span);
                    break;
                case AddressAdd a:
                    if (Key(a.In, span) is { } ak) Link(ak, a.In, a.Device, span);
                    break;
                case RouteAdd a:
                    if (Key(a.In, span) is { } rk && a.Device is not null) Link(rk, a.In, a.Device, span);
                    break;
                case SysctlSet a:
                    Key(a.In, span);
                    break;
                case IptablesPolicy a:
                    Key(a.In, span);
                    break;
                case ContainerRun a:
                    if (_containers.ContainsKey(a.Name)) Error(span, $"container '{a.Name}' is already running", "choose another name");
                    if (_everNetns.Contains(a.Name)) Error(span, $"'{a.Name}' is already a netns name", "netns and container names must differ");
                    string owner = a.Name;
                    if (a.ShareNetnsWith is not null)
                    {
                        if (!_containers.TryGetValue(a.ShareNetnsWith, out var o)) { Error(span, $"container '{a.ShareNetnsWith}' is not running at this point", "start it before the container that joins its network namespace"); break; }
                        owner = o;
                    }
                    if (!fails) { _containers[a.Name] = owner; _everContainers.Add(a.Name); }
                    break;
                case ContainerStop a:
                    if (!_containers.Remove(a.Name, out var ownerOfStopped)) { Error(span, $"container '{a.Name}' is not running at this point"); break; }
                    if (fails) { _containers[a.Name] = ownerOfStopped; break; }
                    if (!_containers.ContainsValue(ownerOfStopped)) RemoveNamespace("container:" + ownerOfStopped);
                    break;
                case NetnsSymlink a:
                    if (!_containers.ContainsKey(a.Container)) Error(span, $"container '{a.Container}' is not running at this point");
                    else if (_symlinked.Contains(a.Container) && !fails) Error(span, $"the netns of '{a.Container}' is already linked into /var/run/netns");
                    else if (!fails) _symlinked.Add(a.Container);
                    break;
                case RunCommand a:
                    Key(a.In, span);
                    // Only commands outside containers are journaled: inside one, the runtime's exec cannot be undone by name.
                    if (a.In.Kind == PlaceKind.Container && a.Undo is not null)
                        Error(span, $"a command inside container '{a.In.Name}' cannot have an undo",
                            "run it in a namespace instead ('ip netns exec' through the host), or use 'undo: none' for a command that changes nothing");
                    break;
            }
        }

        private void CheckBridgePort(string bridge, string link, Place place, SourceSpan span)
        {
            if (Key(place, span) is not { } key) return;
            if (Link(key, place, bridge, span) is { Kind: not "bridge" }) Error(span, $"'{bridge}' is not a bridge", "create it with 'bridge-add'");
            OwnLink(key, place, link, span, "attach or detach");
        }

        public void Check(Expectation expectation)
        {
            var span = expectation.Span;
            switch (expectation)
            {
                case PingExpectation e: Key(e.From, span); CheckPids(span, [e.To]); break;
                case NeighborExpectation e:
                    Key(e.In, span);
                    if (e.MacOfIn is not null && Key(e.MacOfIn, span) is { } mk && e.MacOfLink is not null) Link(mk, e.MacOfIn, e.MacOfLink, span);
                    break;
                case LinkExpectation e:
                    Key(e.In, span);
                    if (e.PeerIn is not null) Key(e.PeerIn, span);
                    if (e.MacOfIn is not null && Key(e.MacOfIn, span) is { } lk && e.MacOfLink is not null) Link(lk, e.MacOfIn, e.MacOfLink, span);
                    break;
                case LinksExpectation e: Key(e.In, span); break;
                case AddressExpectation e: Key(e.In, span); break;
                case RouteExpectation e: Key(e.In, span); break;
                case SysctlExpectation e: Key(e.In, span); break;
                case IptablesPolicyExpectation e: Key(e.In, span); break;
                case BridgePortsExpectation e: Key(e.In, span); break;
                case CommandExpectation e: Key(e.In, span); CheckPids(span, [.. e.Argv, e.OutputContains]); break;
                case NetnsExpectation e when e.Container is not null:
                    // Its /var/run/netns entry is named by its PID, which exists only while it runs.
                    if (!_containers.ContainsKey(e.Container))
                        Error(span, $"container '{e.Container}' is not running at this point", "its netns symlink is named by its PID: check it while the container runs");
                    break;
            }
        }
    }
}
