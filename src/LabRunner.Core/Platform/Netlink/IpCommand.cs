using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// An <c>ip</c> argv the netlink driver runs in-process: where it runs (<see cref="IpNamespace"/>) and what it does
/// (<see cref="IpOperation"/>). <see cref="Parse"/> knows exactly the forms the kinds and the engine build and
/// returns null for anything else (another option, word, order or abbreviation): such an argv runs through the real
/// <c>ip</c>, never a guess of what it would do.
/// </summary>
public sealed record IpCommand(IpNamespace Where, IpOperation Operation)
{
    /// <summary>
    /// <c>ip ARGS</c>, <c>ip -n NAME ARGS</c> or <c>nsenter -t PID -n ip ARGS</c> (NetTarget's three forms), ARGS one of
    /// the forms in <see cref="IpOperation.Parse"/>; null when it is not exactly one of them.
    /// </summary>
    public static IpCommand? Parse(IReadOnlyList<string> argv)
    {
        ArgumentNullException.ThrowIfNull(argv);
        (IpNamespace Where, int Skip)? target = argv switch
        {
            ["nsenter", "-t", var pid, "-n", "ip", ..] when IpWords.Pid(pid) is { } p => (new ProcessNamespace(p), 5),
            ["ip", "-n", var name, ..] when IpWords.IsNetnsName(name) => (new NamedNamespace(name), 3),
            ["ip", ..] => (CallerNamespace.Instance, 1),
            _ => null,
        };
        if (target is not { } t) return null;
        return IpOperation.Parse([.. argv.Skip(t.Skip)]) is { } operation ? new IpCommand(t.Where, operation) : null;
    }
}

/// <summary>
/// The namespace an <c>ip</c> argv runs in, and what the command prints when it cannot get there: <c>ip -n</c> and
/// nsenter each have their words and exit code for it.
/// </summary>
public abstract record IpNamespace
{
    /// <summary>The namespace file a socket is opened in; null for the caller's own.</summary>
    public abstract string? Path { get; }

    /// <summary>How the command names it when it cannot be opened or entered.</summary>
    public abstract NamespaceErrorTexts Errors { get; }

    /// <summary>The exit code of a command that could not switch namespace.</summary>
    public abstract int SwitchFailureExitCode { get; }
}

/// <summary><c>ip ARGS</c>: the namespace LabRunner runs in.</summary>
public sealed record CallerNamespace : IpNamespace
{
    public static readonly CallerNamespace Instance = new();

    private CallerNamespace()
    {
    }

    public override string? Path => null;

    public override NamespaceErrorTexts Errors => NamespaceErrorTexts.IpNetns("");

    public override int SwitchFailureExitCode => 1;
}

/// <summary><c>ip -n NAME ARGS</c>: /var/run/netns/NAME; exit 255 when ip cannot switch to it (netns_switch).</summary>
public sealed record NamedNamespace(string Name) : IpNamespace
{
    public override string Path => $"{IpWords.NetnsRunDirectory}/{Name}";

    public override NamespaceErrorTexts Errors => NamespaceErrorTexts.IpNetns(Name);

    public override int SwitchFailureExitCode => 255;
}

/// <summary><c>nsenter -t PID -n ip ARGS</c>: /proc/PID/ns/net; nsenter's own words and exit 1 when it cannot get there.</summary>
public sealed record ProcessNamespace(int Pid) : IpNamespace
{
    public override string Path => $"/proc/{Pid.ToString(CultureInfo.InvariantCulture)}/ns/net";

    /// <summary>
    /// nsenter opens the UTS namespace before the network one: with <c>-n -u</c> (the process runtime's exec) a process
    /// that is gone is told as <c>cannot open /proc/PID/ns/uts</c>.
    /// </summary>
    public bool WithUts { get; init; }

    public override NamespaceErrorTexts Errors => NamespaceErrorTexts.Nsenter(WithUts ? Path[..^"net".Length] + "uts" : Path);

    public override int SwitchFailureExitCode => 1;
}

/// <summary>What an <c>ip</c> command ends with: its exit code and what it printed.</summary>
public sealed record IpResult(int ExitCode, string Stdout, string Stderr)
{
    public static readonly IpResult Ok = new(0, "", "");

    public static IpResult Printed(string stdout) => new(0, stdout, "");

    /// <summary>iproute2 writes its error as one line on stderr.</summary>
    public static IpResult Failed(int exitCode, string message) => new(exitCode, "", message + "\n");

    /// <summary>nodev(): <c>Cannot find device "NAME"</c>, exit 1 (from iplink_modify, ipaddr_modify, iproute_modify).</summary>
    public static IpResult CannotFindDevice(string name, int exitCode = 1) => Failed(exitCode, $"Cannot find device \"{name}\"");

    /// <summary>invarg(): <c>Error: argument "ARG" is wrong: WHY</c> (WHY ends with its own newline), exit(-1).</summary>
    public static IpResult InvalidArgument(string argument, string why) => Failed(255, $"Error: argument \"{argument}\" is wrong: {why}");

    /// <summary>
    /// A request the kernel refused: rtnl_talk's text, exit 2; <c>Cannot find device</c> (ENODEV for a device the
    /// request names) is nodev's exit 1.
    /// </summary>
    public static IpResult Refused(NetlinkException e) =>
        Failed(e.Errno == Iproute2Errors.ENODEV && e.Message.StartsWith("Cannot find device", StringComparison.Ordinal) ? 1 : 2, e.Message);
}

/// <summary>What an <see cref="IpOperation"/> needs from the namespace it runs in; a socket there, or a test's fake.</summary>
public interface IRtnlChannel
{
    /// <summary>The link of that name (RTM_GETLINK, as ll_name_to_index asks), or null when there is none.</summary>
    Task<NlLink?> FindLinkAsync(string name, CancellationToken ct);

    /// <summary>A change, sent and acknowledged.</summary>
    /// <exception cref="NetlinkException">The kernel refused it.</exception>
    Task SendAsync(NetlinkRequest request, CancellationToken ct);

    Task<IReadOnlyList<NlLink>> LinksAsync(CancellationToken ct);

    Task<IReadOnlyList<NlAddress>> AddressesAsync(AddressFamily family, CancellationToken ct);

    Task<IReadOnlyList<NlRoute>> RoutesAsync(AddressFamily family, CancellationToken ct);

    Task<IReadOnlyList<NlNeighbour>> NeighboursAsync(AddressFamily family, CancellationToken ct);

    /// <summary>
    /// <c>netns NAME</c>: a descriptor of /var/run/netns/NAME (netns_get_fd), held until disposed; null when it cannot
    /// be opened (iproute2 then reads the word as a PID).
    /// </summary>
    NetnsDescriptor? OpenNamedNetns(string name);
}

/// <summary>A descriptor naming a network namespace for IFLA_NET_NS_FD, closed (once) when disposed.</summary>
public sealed class NetnsDescriptor(int fd, Action close) : IDisposable
{
    private int _closed;

    public int Fd { get; } = fd;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0) close();
    }
}

/// <summary>
/// One <c>ip</c> command, parsed; <see cref="RunAsync"/> does what iproute2 6.1 does for it (names resolved to
/// indexes first where ip resolves them, with ip's errors and exit codes) over a channel in the right namespace.
/// </summary>
public abstract partial record IpOperation
{
    /// <summary>
    /// Runs it; null when only iproute2 can tell what happens (a <c>netns</c> word that is neither an openable name nor
    /// a plain PID), decided before anything is sent.
    /// </summary>
    /// <exception cref="NetlinkException">Only for failures that are not the kernel refusing a request (a socket error).</exception>
    public abstract Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct);

    /// <summary>
    /// The words after <c>ip [-n NAME]</c>, one of:
    /// <code>
    /// link add name N type veth peer name P [netns NS|PID]
    /// link add name N type bridge
    /// link add name N type vxlan id ID [remote IP] [local IP] [dev D] dstport PORT
    /// link set dev N {up|down|master M|nomaster|netns NS|PID|mtu N|address MAC|txqueuelen N}... [alias TEXT]
    /// link set N up|down                      (the sandbox's lo and wan0)
    /// link delete dev N
    /// link show dev N
    /// addr add CIDR dev D [nodad]
    /// addr del CIDR dev D
    /// -o addr show dev D to CIDR
    /// [-6] route add|del|show default|CIDR [via GW] [dev D]
    /// -j -d link show dev N | -j link show [master M] | -j addr show dev D   (IpJsonShow.cs)
    /// [-6] -j neigh show to IP | [-6] -j route show
    /// </code>
    /// null for anything else.
    /// </summary>
    public static IpOperation? Parse(IReadOnlyList<string> argv) => (argv ?? throw new ArgumentNullException(nameof(argv))).ToArray() switch
    {
        ["link", "add", "name", var n, "type", "veth", "peer", "name", var p] => AddVeth.Of(n, p, null),
        ["link", "add", "name", var n, "type", "veth", "peer", "name", var p, "netns", var ns] => AddVeth.Of(n, p, ns),
        ["link", "add", "name", var n, "type", "bridge"] => IpWords.IsDevice(n) ? new AddBridge(n) : null,
        ["link", "add", "name", var n, "type", "vxlan", .. var rest] => AddVxlan.Of(n, rest),
        ["link", "set", "dev", var n, .. var rest] => SetLink.Of(n, rest),
        ["link", "set", var n, var state] when state is "up" or "down" && !IpWords.IsLinkKeyword(n) => SetLink.Of(n, [state]),
        ["link", "delete", "dev", var n] => IpWords.IsDevice(n) ? new DeleteLink(n) : null,
        ["link", "show", "dev", var n] => IpWords.IsDevice(n) ? new ShowLink(n) : null,
        ["addr", "add", var cidr, "dev", var d] => ChangeAddress.Of(add: true, cidr, d, noDad: false),
        ["addr", "add", var cidr, "dev", var d, "nodad"] => ChangeAddress.Of(add: true, cidr, d, noDad: true),
        ["addr", "del", var cidr, "dev", var d] => ChangeAddress.Of(add: false, cidr, d, noDad: false),
        ["-o", "addr", "show", "dev", var d, "to", var cidr] => ShowAddress.Of(d, cidr),
        ["-j", "-d", "link", "show", "dev", var n] => IpWords.IsDevice(n) ? new ShowLinksJson(n, null, Details: true) : null,
        ["-j", "link", "show"] => new ShowLinksJson(null, null, Details: false),
        ["-j", "link", "show", "master", var m] => IpWords.IsDevice(m) ? new ShowLinksJson(null, m, Details: false) : null,
        ["-j", "addr", "show", "dev", var d] => IpWords.IsDevice(d) ? new ShowAddressesJson(d) : null,
        ["-j", "neigh", "show", "to", var ip] => ShowNeighboursJson.Of(ip, ipv6: false),
        ["-6", "-j", "neigh", "show", "to", var ip] => ShowNeighboursJson.Of(ip, ipv6: true),
        ["-j", "route", "show"] => new ShowRoutesJson(AddressFamily.InterNetwork),
        ["-6", "-j", "route", "show"] => new ShowRoutesJson(AddressFamily.InterNetworkV6),
        ["-6", "route", var verb, .. var spec] => RouteOperation.Of(verb, ipv6: true, spec),
        ["route", var verb, .. var spec] => RouteOperation.Of(verb, ipv6: false, spec),
        _ => null,
    };

    /// <summary>ll_name_to_index, or nodev's message (exit 1) when there is no such link.</summary>
    private protected static async Task<(NlLink? Link, IpResult? Failure)> ResolveAsync(IRtnlChannel channel, string name, CancellationToken ct) =>
        await channel.FindLinkAsync(name, ct) is { } link ? (link, null) : (null, IpResult.CannotFindDevice(name));

    /// <summary>Sends a change; a refusal is rtnl_talk's message and exit code.</summary>
    private protected static async Task<IpResult> SendAsync(IRtnlChannel channel, NetlinkRequest request, CancellationToken ct)
    {
        try
        {
            await channel.SendAsync(request, ct);
            return IpResult.Ok;
        }
        catch (NetlinkException e) when (e.Errno > 0)
        {
            return IpResult.Refused(e);
        }
    }

    /// <summary>
    /// <c>netns WORD</c> as iplink_parse reads it: /var/run/netns/WORD if it opens (IFLA_NET_NS_FD), else a PID
    /// (IFLA_NET_NS_PID), else invarg. Null: a word only iproute2 can judge (a path, a number in another base).
    /// </summary>
    private protected static (NetnsRef? Ref, NetnsDescriptor? Held, IpResult? Failure)? ResolveNetns(IRtnlChannel channel, string word)
    {
        if (IpWords.IsNetnsName(word) && channel.OpenNamedNetns(word) is { } held) return (NetnsRef.Fd(held.Fd), held, null);
        if (IpWords.Pid(word) is { } pid) return (NetnsRef.Pid(pid), null, null);
        if (IpWords.IsNetnsName(word) && !IpWords.MayBeNumber(word)) return (null, null, IpResult.InvalidArgument(word, "Invalid \"netns\" value\n"));
        return null;
    }

    /// <summary><c>link add name N type veth peer name P [netns NS]</c>: nothing resolved but the peer's namespace.</summary>
    public sealed record AddVeth(string Name, string Peer, string? PeerNetns) : IpOperation
    {
        internal static AddVeth? Of(string name, string peer, string? netns) =>
            IpWords.IsDevice(name) && IpWords.IsDevice(peer) ? new AddVeth(name, peer, netns) : null;

        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            if (PeerNetns is null) return await SendAsync(channel, Rtnl.AddVeth(Name, Peer), ct);
            if (ResolveNetns(channel, PeerNetns) is not { } ns) return null;
            using var held = ns.Held;
            return ns.Failure ?? await SendAsync(channel, Rtnl.AddVeth(Name, Peer, ns.Ref), ct);
        }
    }

    /// <summary><c>link add name N type bridge</c>.</summary>
    public sealed record AddBridge(string Name) : IpOperation
    {
        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct) =>
            await SendAsync(channel, Rtnl.AddBridge(Name), ct);
    }

    /// <summary>
    /// <c>link add name N type vxlan id ID [remote IP] [local IP] [dev D] dstport PORT</c>: vxlan_parse_opt's order of
    /// attributes (Rtnl.AddVxlan); a missing <c>dev</c> is nodev's message with exit(-1), 255.
    /// </summary>
    public sealed record AddVxlan(string Name, uint Id, IPAddress? Remote, IPAddress? Local, string? Device, ushort Port) : IpOperation
    {
        internal static AddVxlan? Of(string name, string[] words)
        {
            if (!IpWords.IsDevice(name) || words is not ["id", var id, .. var rest] || IpWords.Decimal(id, 1, (1 << 24) - 1) is not { } vni) return null;
            IPAddress? remote = null, local = null;
            string? dev = null;
            var i = 0;
            if (i + 1 < rest.Length && rest[i] == "remote")
            {
                if (IpWords.Unicast(rest[i + 1]) is not { } r) return null;
                (remote, i) = (r, i + 2);
            }
            if (i + 1 < rest.Length && rest[i] == "local")
            {
                if (IpWords.Unicast(rest[i + 1]) is not { } l) return null;
                (local, i) = (l, i + 2);
            }
            if (i + 1 < rest.Length && rest[i] == "dev")
            {
                if (!IpWords.IsDevice(rest[i + 1])) return null;
                (dev, i) = (rest[i + 1], i + 2);
            }
            if (rest.Length != i + 2 || rest[i] != "dstport" || IpWords.Decimal(rest[i + 1], 1, ushort.MaxValue) is not { } port) return null;
            if (remote is not null && local is not null && remote.AddressFamily != local.AddressFamily) return null;
            return new AddVxlan(name, (uint)vni, remote, local, dev, (ushort)port);
        }

        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            int? index = null;
            if (Device is not null)
            {
                if (await channel.FindLinkAsync(Device, ct) is not { } link) return IpResult.CannotFindDevice(Device, exitCode: 255);
                index = link.Index;
            }
            return await SendAsync(channel, Rtnl.AddVxlan(Name, new VxlanSpec(Id, Port, Remote, Local, index)), ct);
        }
    }

    /// <summary>
    /// <c>link set dev N …</c>: one RTM_NEWLINK by ifindex. iplink_parse resolves <c>master M</c> and <c>netns NS</c>
    /// as it reads them (invarg, exit 255, when they fail), then iplink_modify the device (nodev, exit 1).
    /// At most one of master, nomaster and netns; each word once; alias last (iproute2 stops reading after it).
    /// </summary>
    public sealed record SetLink(string Device, bool? Up, string? Master, bool NoMaster, string? Netns, int? Mtu, string? Address,
        uint? TxQueueLength, string? Alias) : IpOperation
    {
        internal static SetLink? Of(string device, IReadOnlyList<string> words)
        {
            if (!IpWords.IsDevice(device) || words.Count == 0) return null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            bool? up = null;
            string? master = null, netns = null, address = null, alias = null;
            var noMaster = false;
            int? mtu = null;
            uint? txqlen = null;
            for (var i = 0; i < words.Count; i++)
            {
                var word = words[i];
                var key = word is "up" or "down" ? "state" : word;
                if (!seen.Add(key) || alias is not null) return null; // a word twice, or anything after alias
                var hasValue = i + 1 < words.Count;
                switch (word)
                {
                    case "up" or "down":
                        up = word == "up";
                        continue;
                    case "nomaster":
                        noMaster = true;
                        continue;
                    case "master" when hasValue && IpWords.IsDevice(words[i + 1]):
                        master = words[++i];
                        continue;
                    case "netns" when hasValue:
                        netns = words[++i];
                        continue;
                    case "mtu" when hasValue && IpWords.Decimal(words[i + 1], 0, int.MaxValue) is { } m:
                        (mtu, i) = ((int)m, i + 1);
                        continue;
                    case "address" when hasValue && IpWords.IsMac(words[i + 1]):
                        address = words[++i];
                        continue;
                    case "txqueuelen" when hasValue && IpWords.Decimal(words[i + 1], 0, int.MaxValue) is { } q:
                        (txqlen, i) = ((uint)q, i + 1);
                        continue;
                    case "alias" when hasValue && Encoding.UTF8.GetByteCount(words[i + 1]) < 256:
                        alias = words[++i];
                        continue;
                    default:
                        return null;
                }
            }
            if ((master is not null ? 1 : 0) + (noMaster ? 1 : 0) + (netns is not null ? 1 : 0) > 1) return null;
            return new SetLink(device, up, master, noMaster, netns, mtu, address, txqlen, alias);
        }

        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            var settings = new LinkSettings { Up = Up, Mtu = Mtu, Address = Address, TxQueueLength = TxQueueLength, Alias = Alias };
            if (NoMaster) settings = settings with { Master = 0 };
            if (Master is not null)
            {
                if (await channel.FindLinkAsync(Master, ct) is not { } master) return IpResult.InvalidArgument(Master, "Device does not exist\n");
                settings = settings with { Master = master.Index };
            }
            NetnsDescriptor? held = null;
            try
            {
                if (Netns is not null)
                {
                    if (ResolveNetns(channel, Netns) is not { } ns) return null;
                    if (ns.Failure is { } failure) return failure;
                    held = ns.Held;
                    settings = settings with { Netns = ns.Ref };
                }
                var (link, missing) = await ResolveAsync(channel, Device, ct);
                if (link is null) return missing;
                // iplink_parse checks a new MAC's length against the device's; ours are 6 bytes: another length is ip's to tell.
                if (Address is not null && link.Address?.Length != IpWords.MacLength) return null;
                return await SendAsync(channel, Rtnl.SetLink(LinkRef.ByIndex(link.Index), settings), ct);
            }
            finally
            {
                held?.Dispose();
            }
        }
    }

    /// <summary><c>link delete dev N</c>: RTM_DELLINK by ifindex (nodev, exit 1, when there is none).</summary>
    public sealed record DeleteLink(string Device) : IpOperation
    {
        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            var (link, missing) = await ResolveAsync(channel, Device, ct);
            return link is null ? missing : await SendAsync(channel, Rtnl.DeleteLink(LinkRef.ByIndex(link.Index)), ct);
        }
    }

    /// <summary>
    /// <c>link show dev N</c>, as teardown's check that a link is gone reads it: one iproute2-like line when there is
    /// one, else ip's <c>Device "N" does not exist.</c>, exit 1.
    /// </summary>
    public sealed record ShowLink(string Device) : IpOperation
    {
        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct) =>
            await channel.FindLinkAsync(Device, ct) is { } link
                ? IpResult.Printed(IpText.Link(link) + "\n")
                : IpResult.Failed(1, $"Device \"{Device}\" does not exist.");
    }

    /// <summary><c>addr add|del CIDR dev D [nodad]</c>: the device resolved first (nodev, exit 1), then RTM_NEWADDR/DELADDR.</summary>
    public sealed record ChangeAddress(bool Add, IPAddress Address, int PrefixLength, string Device, bool NoDad) : IpOperation
    {
        internal static ChangeAddress? Of(bool add, string cidr, string device, bool noDad) =>
            IpWords.Cidr(cidr) is { } c && IpWords.IsDevice(device) ? new ChangeAddress(add, c.Address, c.PrefixLength, device, noDad) : null;

        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            var (link, missing) = await ResolveAsync(channel, Device, ct);
            if (link is null) return missing;
            var request = Add
                ? Rtnl.AddAddress(link.Index, Address, PrefixLength, Device, NoDad)
                : Rtnl.DeleteAddress(link.Index, Address, PrefixLength, Device);
            return await SendAsync(channel, request, ct);
        }
    }

    /// <summary>
    /// <c>-o addr show dev D to CIDR</c>: the addresses of D whose first PREFIX bits are CIDR's (ip's <c>to</c>), one
    /// line each; none: exit 0 and nothing. No device D: <c>Device "D" does not exist.</c>, exit 1.
    /// </summary>
    public sealed record ShowAddress(string Device, IPAddress Prefix, int PrefixLength) : IpOperation
    {
        internal static ShowAddress? Of(string device, string cidr) =>
            IpWords.Cidr(cidr) is { } c && IpWords.IsDevice(device) ? new ShowAddress(device, c.Address, c.PrefixLength) : null;

        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            if (await channel.FindLinkAsync(Device, ct) is not { } link) return IpResult.Failed(1, $"Device \"{Device}\" does not exist.");
            var shown = (await channel.AddressesAsync(Prefix.AddressFamily, ct))
                .Where(a => a.Index == link.Index && a.Local.AddressFamily == Prefix.AddressFamily && IpWords.PrefixMatches(a.Local, Prefix, PrefixLength))
                .Select(a => IpText.Address(link, a) + "\n");
            return IpResult.Printed(string.Concat(shown));
        }
    }

    /// <summary>
    /// <c>[-6] route add|del|show default|CIDR [via GW] [dev D]</c> in the main table. add/del: the device resolved
    /// after the rest (nodev, exit 1). show (teardown's check): the main table's routes of exactly that destination and
    /// prefix length, with that gateway and device when given, one line each; a missing device is nodev, exit 1.
    /// </summary>
    public sealed record RouteOperation(string Verb, AddressFamily Family, IPNetwork? Destination, IPAddress? Via, string? Device) : IpOperation
    {
        internal static RouteOperation? Of(string verb, bool ipv6, string[] words)
        {
            if (verb is not ("add" or "del" or "show") || words.Length == 0) return null;
            IPNetwork? destination = null;
            if (words[0] != "default")
            {
                // Host bits set (10.0.0.1/24) is the kernel's refusal, in ip's words: left to ip.
                if (IpWords.Cidr(words[0]) is not { } cidr || !IPNetwork.TryParse(words[0], out var network) || !network.BaseAddress.Equals(cidr.Address)) return null;
                destination = network;
            }
            IPAddress? via = null;
            string? dev = null;
            var i = 1;
            if (i + 1 < words.Length && words[i] == "via")
            {
                if (IpWords.Address(words[i + 1]) is not { } gw) return null;
                (via, i) = (gw, i + 2);
            }
            if (i + 1 < words.Length && words[i] == "dev")
            {
                if (!IpWords.IsDevice(words[i + 1])) return null;
                (dev, i) = (words[i + 1], i + 2);
            }
            if (i != words.Length || (via is null && dev is null)) return null;
            // The family: -6; else for add/del the destination's, the gateway's or IPv4 (iproute_modify), for show IPv4
            // (iproute_list_flush_or_save reads an IPv6 prefix as an error without -6).
            var family = ipv6 ? AddressFamily.InterNetworkV6
                : verb == "show" ? AddressFamily.InterNetwork
                : destination?.BaseAddress.AddressFamily ?? via?.AddressFamily ?? AddressFamily.InterNetwork;
            if (destination is { } d && d.BaseAddress.AddressFamily != family) return null;
            if (via is not null && via.AddressFamily != family) return null; // RTA_VIA or ip's own error: iproute2's to tell
            return new RouteOperation(verb, family, destination, via, dev);
        }

        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            NlLink? link = null;
            if (Device is not null)
            {
                (link, var missing) = await ResolveAsync(channel, Device, ct);
                if (link is null) return missing;
            }
            if (Verb == "show") return IpResult.Printed(await ShowAsync(channel, link, ct));
            var request = Verb == "add"
                ? Rtnl.AddRoute(Destination, Via, link?.Index, Family, Device)
                : Rtnl.DeleteRoute(Destination, Via, link?.Index, Family, Device);
            return await SendAsync(channel, request, ct);
        }

        private async Task<string> ShowAsync(IRtnlChannel channel, NlLink? link, CancellationToken ct)
        {
            var length = Destination?.PrefixLength ?? 0;
            var routes = (await channel.RoutesAsync(Family, ct))
                .Where(r => r.Family == Family && r.Table == RouteConstants.TableMain && r.DestinationLength == length
                            && (length == 0 || r.Destination is { } d && IpWords.PrefixMatches(d, Destination!.Value.BaseAddress, length))
                            && (Via is null || Via.Equals(r.Gateway))
                            && (link is null || r.OutputIndex == link.Index))
                .ToList();
            if (routes.Count == 0) return "";
            var names = (await channel.LinksAsync(ct)).ToDictionary(l => l.Index, l => l.Name);
            return string.Concat(routes.Select(r => IpText.Route(r, names) + "\n"));
        }
    }
}

/// <summary>The words of an ip argv, checked as strictly as the driver needs: anything else falls back to iproute2.</summary>
internal static partial class IpWords
{
    public const string NetnsRunDirectory = "/var/run/netns";
    public const int MacLength = 17; // "aa:bb:cc:dd:ee:ff"

    /// <summary>
    /// A device name the kernel accepts (LinkRef's rule) that ll_name_to_index reads as a name only: iproute2 takes an
    /// unknown "ifN" for ifindex N.
    /// </summary>
    public static bool IsDevice(string word)
    {
        try
        {
            _ = LinkRef.ByName(word);
        }
        catch (ArgumentException)
        {
            return false;
        }
        return !IfIndexName().IsMatch(word);
    }

    /// <summary>
    /// A word iplink_parse would read as a keyword rather than a device (`ip link set WORD up`): its exact words and
    /// every prefix of those it compares with matches().
    /// </summary>
    public static bool IsLinkKeyword(string word) =>
        ExactLinkKeywords.Contains(word) || PrefixLinkKeywords.Any(k => k.StartsWith(word, StringComparison.Ordinal));

    private static readonly HashSet<string> ExactLinkKeywords = new(StringComparer.Ordinal)
    {
        "up", "down", "name", "index", "brd", "qlen", "mtu", "xdp", "xdpgeneric", "xdpdrv", "xdpoffload", "netns", "multicast",
        "allmulticast", "promisc", "trailers", "arp", "carrier", "vf", "vrf", "group", "mode", "state", "protodown",
        "protodown_reason", "gso_max_size", "gso_max_segs", "gro_max_size", "gso_ipv4_max_size", "gro_ipv4_max_size", "parentdev", "dev",
    };

    private static readonly string[] PrefixLinkKeywords =
    [
        "link", "address", "broadcast", "txqueuelen", "txqlen", "master", "nomaster", "dynamic", "type", "alias", "numtxqueues",
        "numrxqueues", "addrgenmode", "link-netnsid", "help",
    ];

    /// <summary>A netns name as ip -n and netns_get_fd read it: a file in /var/run/netns (no '/': a path is read as one).</summary>
    public static bool IsNetnsName(string word) =>
        word.Length is > 0 and <= 255 && word is not ("." or "..") && !word.StartsWith('-') && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' || c is '_' || c is '.');

    /// <summary>A PID as nsenter and get_integer read it, in its plain decimal form only.</summary>
    public static int? Pid(string word) => Decimal(word, 1, int.MaxValue) is { } v ? (int)v : null;

    /// <summary>A word strtol might read as a number in some base (0x1f, 017, -3, +3): iproute2's to judge.</summary>
    public static bool MayBeNumber(string word) => word.Length > 0 && (char.IsAsciiDigit(word[0]) || word[0] is '+' or '-');

    /// <summary>A plain decimal number (no sign, no leading zero, no other base) within [min, max].</summary>
    public static long? Decimal(string word, long min, long max) =>
        word.Length is > 0 and <= 10 && word.All(char.IsAsciiDigit) && (word == "0" || word[0] != '0')
        && long.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : null;

    public static bool IsMac(string word) => Mac().IsMatch(word);

    /// <summary>An IPv4 or IPv6 address in its usual form (no scope id, no IPv4 shorthand such as 10.1).</summary>
    public static IPAddress? Address(string word) =>
        (IPv4().IsMatch(word) || (word.Contains(':') && !word.Contains('%'))) && IPAddress.TryParse(word, out var a) ? a : null;

    /// <summary>A unicast address (vxlan's remote and local; a multicast group is ip's to judge).</summary>
    public static IPAddress? Unicast(string word) =>
        Address(word) is { } a && !(a.AddressFamily == AddressFamily.InterNetwork ? a.GetAddressBytes()[0] >= 224 : a.IsIPv6Multicast) ? a : null;

    /// <summary>ADDRESS/PREFIX with the prefix written out in decimal (a bare address means a full prefix to ip: not ours to guess).</summary>
    public static (IPAddress Address, int PrefixLength)? Cidr(string word)
    {
        var slash = word.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || Address(word[..slash]) is not { } address) return null;
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        return Decimal(word[(slash + 1)..], 0, max) is { } length ? (address, (int)length) : null;
    }

    /// <summary>inet_addr_match: the first <paramref name="bits"/> bits of both are the same.</summary>
    public static bool PrefixMatches(IPAddress address, IPAddress prefix, int bits)
    {
        if (address.AddressFamily != prefix.AddressFamily) return false;
        var (a, p) = (address.GetAddressBytes(), prefix.GetAddressBytes());
        for (var i = 0; i < bits; i++)
        {
            var mask = 0x80 >> (i % 8);
            if ((a[i / 8] & mask) != (p[i / 8] & mask)) return false;
        }
        return true;
    }

    [GeneratedRegex("^if[+-]?[0-9]")]
    private static partial Regex IfIndexName();

    [GeneratedRegex("^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")]
    private static partial Regex Mac();

    [GeneratedRegex(@"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")]
    private static partial Regex IPv4();
}

/// <summary>The one-line texts the show commands print: close to iproute2's, enough to say what is still there.</summary>
internal static class IpText
{
    /// <summary>"3: veth-1: &lt;BROADCAST,MULTICAST,UP,LOWER_UP&gt; mtu 1500 state UP".</summary>
    public static string Link(NlLink link)
    {
        var flags = IpJsonText.FlagNames.Where(f => ((uint)link.Flags & f.Flag) != 0).Select(f => f.Name);
        if (link.IsUp && (link.Flags & InterfaceFlags.Running) == 0) flags = flags.Prepend("NO-CARRIER");
        return $"{link.Index}: {link.Name}: <{string.Join(',', flags)}> mtu {link.Mtu} state {Iproute2Names.Of(link.OperState)}";
    }

    /// <summary>"3: veth-1    inet 10.0.0.1/24 scope global".</summary>
    public static string Address(NlLink link, NlAddress address) =>
        $"{link.Index}: {link.Name}    {(address.Family == AddressFamily.InterNetworkV6 ? "inet6" : "inet")} {address.Cidr} scope {Scope(address.Scope)}";

    /// <summary>"10.0.0.0/24 via 10.0.0.254 dev veth-1 proto boot scope universe".</summary>
    public static string Route(NlRoute route, IReadOnlyDictionary<int, string> names)
    {
        var text = new StringBuilder(route.Display);
        if (route.Gateway is { } gw) text.Append(" via ").Append(gw);
        if (route.OutputIndex is { } oif) text.Append(" dev ").Append(names.TryGetValue(oif, out var name) ? name : $"if{oif}");
        text.Append(" proto ").Append(route.Protocol switch
        {
            RouteConstants.ProtocolKernel => "kernel",
            RouteConstants.ProtocolBoot => "boot",
            var p => p.ToString(CultureInfo.InvariantCulture),
        });
        return text.Append(" scope ").Append(Scope(route.Scope)).ToString();
    }

    private static string Scope(byte scope) => IpJsonText.Scope(scope);
}
