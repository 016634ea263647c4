using System.Runtime.CompilerServices;
using LabRunner.Model;

namespace LabRunner.Authoring;

/// <summary>
/// One step of a C# lab: its actions, then (through <see cref="Expect"/>) what must hold after them. Immutable:
/// every call returns a new builder and leaves this one as it was, so write the calls as one chain
/// (<c>s => s.Netns("n1").Veth("veth-1", "veth-2").Expect.Netns("n1")</c>) or keep the returned value.
/// Each method mirrors the YAML action of the same meaning (docs/CSHARP-LABS.md lists the pairs) and produces
/// the same model record, so a step behaves identically whichever way it was written. Every call remembers its
/// file and line, so errors point at the line of the lab that wrote the action.
/// </summary>
public class StepBuilder
{
    internal StepBuilder(StepState state) => State = state;

    internal StepState State { get; }

    public string Title => State.Title;

    /// <summary>What must hold after this step's actions: <c>.Expect.Ping(from: "busybox-2", to: "172.16.100.101").Fails()</c>.</summary>
    public ExpectationPicker Expect => new(State);

    internal static SourceSpan At(string file, int line) => new(string.IsNullOrEmpty(file) ? "<code>" : file, line, line > 0 ? 1 : 0);

    private ActionClause Add(ActionDraft draft) => new(State with { Actions = State.Actions.Add(draft) });

    /// <summary><c>ip netns add NAME</c> (YAML <c>netns-add</c>).</summary>
    public ActionClause Netns(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("netns-add", At(file, line), (c, d) => c.Object(name, d.Span, "netns") is { } n ? new NetnsAdd(n) : null)
            { TakesPlace = false, Declares = (PlaceKind.Netns, name) });

    /// <summary><c>ip netns delete NAME</c> (YAML <c>netns-delete</c>).</summary>
    public ActionClause DeleteNetns(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("netns-delete", At(file, line), (c, d) => c.Object(name, d.Span, "netns") is { } n ? new NetnsDelete(n) : null) { TakesPlace = false });

    /// <summary><c>ip link add NAME type veth peer name PEER [netns PEERIN]</c> (YAML <c>veth-add</c>); <c>.In(x)</c> creates it in x.</summary>
    public ActionClause Veth(string name, string peer, string? peerIn = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("veth-add", At(file, line), (c, d) =>
        {
            var n = c.Interface(name, d.Span, "name");
            var p = c.Interface(peer, d.Span, "peer");
            var peerPlace = peerIn is null ? null : c.Place(peerIn, d.Span);
            return n is null || p is null ? null : new VethAdd(n, p, c.PlaceOf(d), peerPlace);
        }));

    /// <summary><c>ip link add NAME type bridge</c> (YAML <c>bridge-add</c>).</summary>
    public ActionClause Bridge(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("bridge-add", At(file, line), (c, d) => c.Interface(name, d.Span, "name") is { } n ? new BridgeAdd(n, c.PlaceOf(d)) : null));

    /// <summary>
    /// <c>ip link add NAME type vxlan id ID [remote R] [local L] [dev DEV] dstport PORT</c> (YAML <c>vxlan-add</c>):
    /// a VXLAN tunnel end for cross-host labs.
    /// </summary>
    public ActionClause Vxlan(string name, int id, string? remote = null, string? local = null, string? dev = null, int port = VxlanAdd.DefaultPort,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("vxlan-add", At(file, line), (c, d) =>
        {
            var n = c.Interface(name, d.Span, "name");
            if (id is < 1 or > 16777215) c.Error(d.Span, $"'id' must be a whole number from 1 to 16777215, not '{id}'");
            if (port is < 1 or > 65535) c.Error(d.Span, $"'port' must be a whole number from 1 to 65535, not '{port}'");
            var r = c.Ip(remote, d.Span, "remote");
            var l = c.Ip(local, d.Span, "local");
            var underlay = dev is null ? null : c.Interface(dev, d.Span, "dev");
            return n is null || id is < 1 or > 16777215 || port is < 1 or > 65535 || (remote is not null && r is null) ||
                   (local is not null && l is null) || (dev is not null && underlay is null)
                ? null
                : new VxlanAdd(n, id, r, l, underlay, port, c.PlaceOf(d));
        }));

    /// <summary><c>ip link set NAME up</c> (YAML <c>link-up</c>).</summary>
    public ActionClause LinkUp(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("link-up", At(file, line), (c, d) => c.Interface(name, d.Span, "name") is { } n ? new LinkSetState(n, c.PlaceOf(d), true) : null));

    /// <summary><c>ip link set NAME down</c> (YAML <c>link-down</c>).</summary>
    public ActionClause LinkDown(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("link-down", At(file, line), (c, d) => c.Interface(name, d.Span, "name") is { } n ? new LinkSetState(n, c.PlaceOf(d), false) : null));

    /// <summary>
    /// <c>ip link set NAME [up] netns TO</c> (YAML <c>link-move</c>); a container is reached by its PID, as the
    /// article does. <c>.In(x)</c> moves it from x instead of the host.
    /// </summary>
    public ActionClause MoveLink(string name, string to, bool up = false, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("link-move", At(file, line), (c, d) =>
        {
            var n = c.Interface(name, d.Span, "name");
            var target = c.Place(to, d.Span);
            return n is null ? null : new LinkMove(n, c.PlaceOf(d), target, up);
        }));

    /// <summary><c>ip link delete NAME</c> (YAML <c>link-delete</c>).</summary>
    public ActionClause DeleteLink(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("link-delete", At(file, line), (c, d) => c.Interface(name, d.Span, "name") is { } n ? new LinkDelete(n, c.PlaceOf(d)) : null));

    /// <summary><c>brctl addif BRIDGE LINK</c> (YAML <c>bridge-attach</c>).</summary>
    public ActionClause Attach(string bridge, string link, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("bridge-attach", At(file, line), (c, d) =>
        {
            var b = c.Interface(bridge, d.Span, "bridge");
            var l = c.Interface(link, d.Span, "link");
            return b is null || l is null ? null : new BridgeAttach(b, l, c.PlaceOf(d));
        }));

    /// <summary><c>brctl delif BRIDGE LINK</c> (YAML <c>bridge-detach</c>).</summary>
    public ActionClause Detach(string bridge, string link, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("bridge-detach", At(file, line), (c, d) =>
        {
            var b = c.Interface(bridge, d.Span, "bridge");
            var l = c.Interface(link, d.Span, "link");
            return b is null || l is null ? null : new BridgeDetach(b, l, c.PlaceOf(d));
        }));

    /// <summary><c>ip addr add ADDRESS dev DEV</c> (YAML <c>address-add</c>).</summary>
    public ActionClause Address(string dev, string address, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("address-add", At(file, line), (c, d) =>
        {
            var n = c.Interface(dev, d.Span, "dev");
            var a = c.Cidr(address, d.Span);
            return n is null || a is null ? null : new AddressAdd(n, a, c.PlaceOf(d));
        }));

    /// <summary><c>ip route add TO [via VIA] [dev DEV]</c> (YAML <c>route-add</c>); TO may be "default".</summary>
    public ActionClause Route(string to, string? dev = null, string? via = null, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("route-add", At(file, line), (c, d) =>
        {
            var destination = c.RouteDestination(to, d.Span);
            var device = dev is null ? null : c.Interface(dev, d.Span, "dev");
            var gateway = c.Ip(via, d.Span, "via");
            if (dev is null && via is null)
            {
                c.Error(d.Span, "a route needs 'dev' or 'via'", "e.g. Route(\"default\", dev: \"veth-2\") for the article's default route");
                return null;
            }
            return destination is null || (dev is not null && device is null) || (via is not null && gateway is null)
                ? null
                : new RouteAdd(destination, device, gateway, c.PlaceOf(d));
        }));

    /// <summary><c>sysctl -w KEY=VALUE</c> (YAML <c>sysctl</c>); the old value is restored at teardown.</summary>
    public ActionClause Sysctl(string key, string value, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("sysctl", At(file, line), (c, d) =>
        {
            var k = c.SysctlKey(key, d.Span);
            if (value is null || value.Length == 0 || value.Any(char.IsControl))
            {
                c.Error(d.Span, "'value' must be a non-empty single-line value");
                return null;
            }
            return k is null ? null : new SysctlSet(k, value, c.PlaceOf(d));
        }));

    /// <summary><c>iptables -t TABLE -P CHAIN POLICY</c> (YAML <c>iptables-policy</c>); the old policy is restored at teardown.</summary>
    public ActionClause IptablesPolicy(string chain, string policy, string table = "filter", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("iptables-policy", At(file, line), (c, d) =>
            c.Policy(table, chain, policy, d.Span) is { } p ? new IptablesPolicy(p.Table, p.Chain, p.Policy, c.PlaceOf(d)) : null));

    /// <summary>
    /// Starts a busybox container (YAML <c>container-run</c>); with <paramref name="netnsOf"/> it joins that
    /// container's network namespace, as a Kubernetes pod does.
    /// </summary>
    public ActionClause Container(string name, string? netnsOf = null, string image = "busybox", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("container-run", At(file, line), (c, d) =>
        {
            var n = c.Object(name, d.Span, "container");
            if (image is not ("busybox" or "docker.io/library/busybox:latest"))
                c.Error(d.Span, $"image '{image}' is not available offline", "use 'busybox' (built from Debian's busybox-static)");
            var share = netnsOf is null ? null : c.Container(netnsOf, d.Span);
            return n is null || (netnsOf is not null && share is null) ? null : new ContainerRun(n, "busybox", share);
        }) { TakesPlace = false, Declares = (PlaceKind.Container, name) });

    /// <summary>Stops a container (YAML <c>container-stop</c>).</summary>
    public ActionClause StopContainer(string name, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("container-stop", At(file, line), (c, d) => c.Container(name, d.Span) is { } n ? new ContainerStop(n) : null) { TakesPlace = false });

    /// <summary><c>ln -s /proc/PID/ns/net /var/run/netns/PID</c> (YAML <c>netns-symlink</c>), so that <c>ip netns</c> sees the container.</summary>
    public ActionClause NetnsSymlink(string container, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("netns-symlink", At(file, line), (c, d) => c.Container(container, d.Span) is { } n ? new NetnsSymlink(n) : null) { TakesPlace = false });

    /// <summary>
    /// A literal command, run as argv (never through a shell), with its undo (YAML <c>command</c>). Pass
    /// <c>undo: null</c> when the command changes nothing. Arguments may use ${NAME.pid} and ${uplink.ip}.
    /// </summary>
    public ActionClause Command(string[] argv, string[]? undo, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        Add(new("command", At(file, line), (c, d) =>
        {
            var a = c.Argv(argv, d.Span, "argv");
            var u = undo is null ? null : c.Argv(undo, d.Span, "undo");
            return a is null || (undo is not null && u is null) ? null : new RunCommand(a.Value, c.PlaceOf(d), u);
        }));
}

/// <summary>The step after an action: more of the step, or a modifier of that action (<see cref="In"/>, <see cref="FailsWith"/>).</summary>
public sealed class ActionClause : StepBuilder
{
    internal ActionClause(StepState state) : base(state)
    {
    }

    /// <summary>Where the action happens: "host" (the default), a netns or a container of the lab (YAML <c>in:</c>).</summary>
    public ActionClause In(string place, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastAction(a => a with { In = place, InSpan = At(file, line) }));

    /// <summary>
    /// The action must fail, and its error output must contain <paramref name="error"/> (YAML <c>fails-with:</c>),
    /// e.g. the article's <c>RTNETLINK answers: File exists</c>.
    /// </summary>
    public ActionClause FailsWith(string error, [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        new(State.WithLastAction(a => a with { FailsWith = error, FailsWithSpan = At(file, line) }));
}
