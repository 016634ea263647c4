using System.Runtime.CompilerServices;
using System.Collections.Immutable;
using System.Text.Json;
using LabRunner.Authoring;
using LabRunner.Kinds;
using static LabRunner.Execution.IpJson;

namespace LabRunner.Model;

/// <summary>A link's presence and properties; only the properties given are checked.</summary>
public sealed record LinkExpectation(
    string Name,
    Place In,
    bool Present,
    string? State,
    ImmutableArray<string> Flags,
    string? Master,
    bool NoMaster,
    string? Peer,
    Place? PeerIn) : Expectation
{
    /// <summary>Value equality, lists included (<see cref="Sequences"/>).</summary>
    public bool Equals(LinkExpectation? other) =>
        other is not null && base.Equals(other) && Name == other.Name && In == other.In && Present == other.Present && State == other.State &&
        Sequences.Equal(Flags, other.Flags) && Master == other.Master && NoMaster == other.NoMaster && Peer == other.Peer && PeerIn == other.PeerIn &&
        MacOfLink == other.MacOfLink && MacOfIn == other.MacOfIn && Mtu == other.Mtu;

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), HashCode.Combine(Name, In, Present, State, Sequences.Hash(Flags), Master, Peer, PeerIn), MacOfLink);

    public static readonly ExpectationKind Kind = new("link", "ip -d link show dev NAME: present or not, and the properties given",
        [
            new("name", FieldType.Interface, "the link", Required: true),
            FieldSpec.In,
            new("present", FieldType.Boolean, "whether it must exist (default true)"),
            new("state", FieldType.Choice, "ip link's operational state") { Choices = [.. CommonFields.LinkStates] },
            new("flags", FieldType.Strings, "flags it must have, e.g. [UP, LOWER_UP]"),
            new("master", FieldType.Text, "its bridge, or 'none'"),
            new("peer", FieldType.Interface, "a veth's other end"),
            new("peer-in", FieldType.Place, "where the other end is"),
            new("mtu", FieldType.Integer, "its MTU, e.g. 1450 for a VXLAN over a 1500-byte underlay") { Min = 68, Max = 65535 },
            CommonFields.MacOf,
        ],
        r =>
        {
            var name = r.Interface("name", required: true);
            var place = r.PlaceOf();
            var present = r.Bool("present") ?? true;
            var state = r.Choice("state", CommonFields.LinkStates, "unknown link state '{0}'", "use UP, DOWN, LOWERLAYERDOWN or UNKNOWN (ip link's 'state')");
            var flags = r.StringList("flags") ?? [];
            var master = r.String("master");
            var noMaster = master == "none";
            if (master is not null && !noMaster && Loading.Names.CheckInterface(master) is { } why) r.Error(r.SpanOf("master"), why);
            var peer = r.Interface("peer");
            var peerIn = r.OptionalPlace("peer-in");
            var mtu = r.Int("mtu", 68, 65535);
            var (ofLink, ofIn) = CommonFields.ReadMacOf(r);
            return name is null ? null : new LinkExpectation(name, place, present, state, flags, noMaster ? null : master, noMaster, peer, peerIn)
                { MacOfLink = ofLink, MacOfIn = ofIn, Mtu = mtu };
        }, rank: 30);

    /// <summary>When set, the link's MAC must equal the MAC of this link (in <see cref="MacOfIn"/>).</summary>
    public string? MacOfLink { get; init; }

    public Place? MacOfIn { get; init; }

    /// <summary>When set, the link's MTU.</summary>
    public int? Mtu { get; init; }

    public override string Keyword => Kind.Keyword;

    public override string Describe()
    {
        if (!Present) return $"{Name} absent from {In}";
        var parts = new List<string>();
        if (State is not null) parts.Add($"state {State}");
        if (!Flags.IsDefaultOrEmpty) parts.Add($"flags {string.Join(",", Flags)}");
        if (Master is not null) parts.Add($"master {Master}");
        if (NoMaster) parts.Add("no master");
        if (Mtu is not null) parts.Add($"mtu {Mtu}");
        if (Peer is not null) parts.Add($"peer {Peer}");
        if (PeerIn is not null) parts.Add($"peer in {PeerIn}");
        if (MacOfLink is not null) parts.Add($"MAC of {MacOfLink} in {MacOfIn!.Name}");
        return $"{Name} present in {In}" + (parts.Count > 0 ? ": " + string.Join(", ", parts) : "");
    }

    public override void Check(HostModel host)
    {
        host.Namespace(In);
        if (PeerIn is not null) host.Namespace(PeerIn);
        if (MacOfIn is not null && host.Namespace(MacOfIn) is { } key && MacOfLink is not null) host.Link(key, MacOfIn, MacOfLink);
    }

    public override async Task<(bool Held, string Observed)> ObserveAsync(ObserveContext context, CancellationToken ct)
    {
        var link = await context.LinkJsonAsync(context.Target(In), Name, ct);
        if (link is not { } l) return (!Present, $"{Name} absent from {In}");
        if (!Present) return (false, $"{Name} present in {In}");

        var state = Str(l, "operstate") ?? "UNKNOWN";
        var flags = l.TryGetProperty("flags", out var f) ? f.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [];
        var master = Str(l, "master");
        var seen = new List<string> { $"state {state}", $"flags <{string.Join(",", flags)}>", master is null ? "no master" : $"master {master}" };
        if (Mtu is not null) seen.Add($"mtu {(l.TryGetProperty("mtu", out var m) ? m.GetRawText() : "?")}");
        var held = (Mtu is null || l.TryGetProperty("mtu", out var mtu) && mtu.TryGetInt32(out var value) && value == Mtu)
                   && (State is null || State == state)
                   && Flags.All(flags.Contains)
                   && (Master is null || Master == master)
                   && (!NoMaster || master is null);

        if (MacOfLink is not null)
        {
            var mac = Str(l, "address");
            var otherMac = await context.MacOfAsync(MacOfIn!, MacOfLink, ct);
            seen.Add($"MAC {mac}" + (otherMac is null ? $"; {MacOfLink} not found in {MacOfIn}" : $", {MacOfLink} in {MacOfIn!.Name} has {otherMac}"));
            held &= otherMac is not null && string.Equals(mac, otherMac, StringComparison.OrdinalIgnoreCase);
        }
        if (Peer is not null || PeerIn is not null)
        {
            var (peerName, peerWhere) = await PeerAsync(context, l, ct);
            seen.Add($"peer {peerName ?? "?"} in {peerWhere}");
            held &= (Peer is null || Peer == peerName) && (PeerIn is null || peerWhere == PeerIn.ToString());
        }
        return (held, string.Join(", ", seen));
    }

    /// <summary>
    /// A veth's peer: in the same namespace JSON names it ("link"); in another it gives only the peer's ifindex
    /// and a netns id, so the candidate namespace is searched for the link whose index and back-pointer match.
    /// </summary>
    private async Task<(string? Name, string Where)> PeerAsync(ObserveContext context, JsonElement link, CancellationToken ct)
    {
        if (!link.TryGetProperty("link_netnsid", out _))
            return (Str(link, "link"), In.ToString());
        if (PeerIn is null) return (null, "another namespace");
        var ifindex = link.GetProperty("ifindex").GetInt32();
        var peerIndex = link.TryGetProperty("link_index", out var li) ? li.GetInt32() : -1;
        var outcome = await context.CheckAsync(context.Target(PeerIn).Ip("-j", "link", "show"), ct);
        if (outcome.Succeeded)
            foreach (var candidate in ObserveContext.Json(outcome.Stdout).EnumerateArray())
                if (candidate.GetProperty("ifindex").GetInt32() == peerIndex &&
                    candidate.TryGetProperty("link_index", out var back) && back.GetInt32() == ifindex &&
                    candidate.TryGetProperty("link_netnsid", out _))
                    return (Str(candidate, "ifname"), PeerIn.ToString());
        return (null, $"a namespace other than {PeerIn}");
    }
}

/// <summary>The C# API of the kind above: its builder method, a typed shim over the same fields (docs/CSHARP-LABS.md).</summary>
public static partial class ExpectationSteps
{
    /// <summary>
    /// A link's presence and properties; only those given are checked (YAML <c>link</c>). <paramref name="master"/>
    /// "none" means the link has no master.
    /// </summary>
    public static ExpectClause Link(this ExpectationPicker expect, string name, bool present = true, string? state = null, string[]? flags = null, string? master = null,
        string? peer = null, string? peerIn = null, string? macOf = null, string? macOfIn = null, int? mtu = null,
        [CallerFilePath] string file = "", [CallerLineNumber] int line = 0) =>
        expect.Add(LinkExpectation.Kind, file, line, ("name", name), ("present", present), ("state", state), ("flags", flags), ("master", master),
            ("peer", peer), ("peer-in", peerIn), ("mac-of", ExpectationPicker.MacOf(macOf, macOfIn, file, line)), ("mtu", mtu));
}
