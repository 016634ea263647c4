using System.Net;
using System.Net.Sockets;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// The <c>ip -j … show</c> observations the kinds read (link, links, bridge ports, addresses, neighbours, routes),
/// answered from rtnetlink dumps in-process. Each prints what iproute2 6.1 prints for the fields LabRunner reads
/// (<see cref="IpJsonFields"/>) with the same values, and iproute2's errors and exit codes; the other fields ip
/// prints (qdisc, group, link_type, broadcast, lifetimes, …) are left out. <c>NetlinkDriverKernelSpecs</c> compares
/// every form with ip's own output in private namespaces.
/// </summary>
public abstract partial record IpOperation
{
    /// <summary>
    /// <c>-j [-d] link show [dev N | master M]</c>: one dump of the namespace's links (names and flags of peers and
    /// masters come from it, as ip's ll_index_to_name asks the kernel). No link N: <c>Device "N" does not exist.</c>,
    /// exit 1; no master M: ip's invarg, exit 255. <paramref name="Details"/> (<c>-d</c>) adds linkinfo's kinds.
    /// </summary>
    public sealed record ShowLinksJson(string? Device, string? Master, bool Details) : IpOperation
    {
        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            var links = await channel.LinksAsync(ct);
            var byIndex = links.ToDictionary(l => l.Index);
            IEnumerable<NlLink> shown = links;
            if (Device is not null)
            {
                // Not by its name in the dump: ip's RTM_GETLINK by name also finds an alternative name (IFLA_ALT_IFNAME).
                var found = links.FirstOrDefault(l => l.Name == Device) ?? await channel.FindLinkAsync(Device, ct);
                shown = found is null ? [] : [found];
                if (!shown.Any()) return IpResult.Failed(1, $"Device \"{Device}\" does not exist.");
            }
            if (Master is not null)
            {
                if (links.FirstOrDefault(l => l.Name == Master) is not { } master) return IpResult.InvalidArgument(Master, "Device does not exist\n");
                shown = links.Where(l => l.MasterIndex == master.Index);
            }
            return IpResult.Printed(IpJsonText.Array(w =>
            {
                foreach (var link in shown) IpJsonText.Link(w, link, byIndex, Details, addresses: null);
            }));
        }
    }

    /// <summary><c>-j addr show dev D</c>: D's link fields and its addresses (both families, in the kernel's order).</summary>
    public sealed record ShowAddressesJson(string Device) : IpOperation
    {
        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            var links = await channel.LinksAsync(ct);
            if (links.FirstOrDefault(l => l.Name == Device) is not { } link) return IpResult.Failed(1, $"Device \"{Device}\" does not exist.");
            var addresses = (await channel.AddressesAsync(AddressFamily.Unspecified, ct)).Where(a => a.Index == link.Index).ToList();
            return IpResult.Printed(IpJsonText.Array(w => IpJsonText.Link(w, link, links.ToDictionary(l => l.Index), details: false, addresses)));
        }
    }

    /// <summary>
    /// <c>[-6] -j neigh show to IP</c>: the entries of IP's family for exactly IP, as ip shows them by default (not
    /// NOARP or NONE ones, unless proxy or externally learned).
    /// </summary>
    public sealed record ShowNeighboursJson(IPAddress Destination) : IpOperation
    {
        internal static ShowNeighboursJson? Of(string word, bool ipv6) =>
            IpWords.Address(word) is { } a && (a.AddressFamily == AddressFamily.InterNetworkV6) == ipv6 ? new ShowNeighboursJson(a) : null;

        private const NeighbourState HiddenByDefault = NeighbourState.NoArp;
        private const byte NtfProxy = 0x08, NtfExtLearned = 0x10;

        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            var entries = await channel.NeighboursAsync(Destination.AddressFamily, ct);
            var names = (await channel.LinksAsync(ct)).ToDictionary(l => l.Index, l => l.Name);
            var shown = entries.Where(n => Destination.Equals(n.Destination) &&
                ((n.State & ~HiddenByDefault) != 0 || (n.Flags & (NtfProxy | NtfExtLearned)) != 0));
            return IpResult.Printed(IpJsonText.Array(w =>
            {
                foreach (var n in shown) IpJsonText.Neighbour(w, n, names);
            }));
        }
    }

    /// <summary><c>[-6] -j route show</c>: the main table's routes of that family.</summary>
    public sealed record ShowRoutesJson(AddressFamily Family) : IpOperation
    {
        public override async Task<IpResult?> RunAsync(IRtnlChannel channel, CancellationToken ct)
        {
            var routes = await channel.RoutesAsync(Family, ct);
            var names = (await channel.LinksAsync(ct)).ToDictionary(l => l.Index, l => l.Name);
            return IpResult.Printed(IpJsonText.Array(w =>
            {
                foreach (var r in routes.Where(r => r.Family == Family && r.Table == RouteConstants.TableMain)) IpJsonText.Route(w, r, names);
            }));
        }
    }
}

/// <summary>The fields the in-process <c>ip -j</c> observations print: those LabRunner's kinds and engine read.</summary>
public static class IpJsonFields
{
    public static readonly string[] Link =
        ["ifindex", "link", "link_index", "ifname", "flags", "mtu", "master", "operstate", "txqlen", "address", "link_netnsid", "ifalias"];

    /// <summary>Inside <c>linkinfo</c>, with <c>-d</c>.</summary>
    public static readonly string[] LinkInfo = ["info_kind", "info_slave_kind"];

    /// <summary>Each of <c>addr_info</c>'s entries.</summary>
    public static readonly string[] Address = ["family", "local", "prefixlen", "scope", "tentative", "dadfailed", "deprecated"];

    public static readonly string[] Neighbour = ["dst", "dev", "lladdr", "state"];

    public static readonly string[] Route = ["dst", "gateway", "dev"];
}

/// <summary>iproute2's JSON for links, addresses, neighbours and routes (the fields of <see cref="IpJsonFields"/>).</summary>
internal static class IpJsonText
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>print_link_flags' order (the JSON's and `ip link`'s text); NO-CARRIER before them, M-DOWN after.</summary>
    public static readonly (uint Flag, string Name)[] FlagNames =
    [
        (0x8, "LOOPBACK"), (0x2, "BROADCAST"), (0x10, "POINTOPOINT"), (0x1000, "MULTICAST"), (0x80, "NOARP"), (0x200, "ALLMULTI"),
        (0x100, "PROMISC"), (0x400, "MASTER"), (0x800, "SLAVE"), (0x4, "DEBUG"), (0x8000, "DYNAMIC"), (0x4000, "AUTOMEDIA"),
        (0x2000, "PORTSEL"), (0x20, "NOTRAILERS"), (0x1, "UP"), (0x10000, "LOWER_UP"), (0x20000, "DORMANT"), (0x40000, "ECHO"),
    ];

    private const uint Running = 0x40;
    private const uint IfaTentative = 0x40, IfaDadFailed = 0x08, IfaDeprecated = 0x20;

    public static string Array(Action<Utf8JsonWriter> items)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            w.WriteStartArray();
            items(w);
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>print_linkinfo's fields; a same-namespace peer ("link") is named, and M-DOWN when it is not up.</summary>
    public static void Link(Utf8JsonWriter w, NlLink link, IReadOnlyDictionary<int, NlLink> byIndex, bool details, IReadOnlyList<NlAddress>? addresses)
    {
        w.WriteStartObject();
        w.WriteNumber("ifindex", link.Index);
        var peerDown = false;
        if (link.LinkIndex is { } peer)
        {
            if (link.LinkNetnsId is not null) w.WriteNumber("link_index", peer);
            else
            {
                var known = byIndex.TryGetValue(peer, out var p);
                w.WriteString("link", known ? p!.Name : $"if{peer}");
                peerDown = !known || !p!.IsUp; // ll_index_to_flags gives 0 for an index it cannot find
            }
        }
        w.WriteString("ifname", link.Name);
        w.WriteStartArray("flags");
        var flags = (uint)link.Flags;
        if ((flags & 0x1) != 0 && (flags & Running) == 0) w.WriteStringValue("NO-CARRIER");
        flags &= ~Running;
        foreach (var (flag, name) in FlagNames)
            if ((flags & flag) != 0)
            {
                w.WriteStringValue(name);
                flags &= ~flag;
            }
        if (flags != 0) w.WriteStringValue(flags.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        if (peerDown) w.WriteStringValue("M-DOWN");
        w.WriteEndArray();
        w.WriteNumber("mtu", link.Mtu);
        if (link.MasterIndex is { } m) w.WriteString("master", byIndex.TryGetValue(m, out var master) ? master.Name : $"if{m}");
        w.WriteString("operstate", Iproute2Names.Of(link.OperState));
        if (link.TxQueueLength is { } q) w.WriteNumber("txqlen", q);
        if (link.Address is { } mac) w.WriteString("address", mac);
        if (link.LinkNetnsId is { } id) w.WriteNumber("link_netnsid", id);
        if (details && (link.Kind is not null || link.SlaveKind is not null))
        {
            w.WriteStartObject("linkinfo");
            if (link.Kind is { } kind) w.WriteString("info_kind", kind);
            if (link.SlaveKind is { } slave) w.WriteString("info_slave_kind", slave);
            w.WriteEndObject();
        }
        if (link.Alias is { } alias && addresses is null) w.WriteString("ifalias", alias); // `ip link` (do_link) or -d prints it, `ip addr` does not
        if (addresses is not null)
        {
            w.WriteStartArray("addr_info");
            foreach (var a in addresses)
            {
                w.WriteStartObject();
                w.WriteString("family", a.Family == AddressFamily.InterNetworkV6 ? "inet6" : "inet");
                w.WriteString("local", a.Local.ToString());
                w.WriteNumber("prefixlen", a.PrefixLength);
                w.WriteString("scope", Scope(a.Scope));
                if ((a.Flags & IfaTentative) != 0) w.WriteBoolean("tentative", true);
                if ((a.Flags & IfaDadFailed) != 0) w.WriteBoolean("dadfailed", true);
                if ((a.Flags & IfaDeprecated) != 0) w.WriteBoolean("deprecated", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    public static void Neighbour(Utf8JsonWriter w, NlNeighbour n, IReadOnlyDictionary<int, string> names)
    {
        w.WriteStartObject();
        if (n.Destination is { } dst) w.WriteString("dst", dst.ToString());
        w.WriteString("dev", names.TryGetValue(n.Index, out var dev) ? dev : $"if{n.Index}");
        if (n.LinkAddress is { } ll) w.WriteString("lladdr", ll);
        w.WriteStartArray("state");
        foreach (var name in Iproute2Names.Of(n.State).Split(' ')) w.WriteStringValue(name);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void Route(Utf8JsonWriter w, NlRoute r, IReadOnlyDictionary<int, string> names)
    {
        w.WriteStartObject();
        w.WriteString("dst", r.Display);
        if (r.Gateway is { } gw) w.WriteString("gateway", gw.ToString());
        if (r.OutputIndex is { } oif) w.WriteString("dev", names.TryGetValue(oif, out var dev) ? dev : $"if{oif}");
        w.WriteEndObject();
    }

    /// <summary>rtnl_rtscope_n2a.</summary>
    public static string Scope(byte scope) => scope switch
    {
        0 => "global",
        200 => "site",
        253 => "link",
        254 => "host",
        255 => "nowhere",
        _ => scope.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
