using System.Runtime.InteropServices;
using System.Text;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// One request, ready to send but for its sequence number: the message type, its flags and its body (the family
/// header and attributes). <see cref="Device"/> is the link the user named, for the error text (ENODEV →
/// <c>Cannot find device "NAME"</c>, as iproute2 says it).
/// </summary>
public sealed class NetlinkRequest
{
    public NetlinkRequest(NetlinkMessageType type, NetlinkFlags flags, byte[] body, string? device = null)
    {
        Type = type;
        Flags = flags;
        Body = body;
        Device = device;
    }

    public NetlinkMessageType Type { get; }

    public NetlinkFlags Flags { get; }

    public ReadOnlyMemory<byte> Body { get; }

    public string? Device { get; }

    /// <summary>A dump (a GET with NLM_F_DUMP): answered by NLM_F_MULTI parts and NLMSG_DONE, not by an ACK.</summary>
    public bool IsDump => (Flags & NetlinkFlags.Dump) == NetlinkFlags.Dump
        && Type is NetlinkMessageType.GetLink or NetlinkMessageType.GetAddr or NetlinkMessageType.GetRoute or NetlinkMessageType.GetNeigh;

    /// <summary>The message as sent: nlmsghdr {len, type, flags, seq, pid} and the body.</summary>
    public byte[] Encode(uint sequence, uint portId = 0)
    {
        var bytes = new byte[Wire.HeaderSize + Body.Length];
        NetlinkMessage.WriteHeader(bytes, Type, Flags, sequence, portId);
        Body.Span.CopyTo(bytes.AsSpan(Wire.HeaderSize));
        return bytes;
    }

    public override string ToString() => $"{Type} {Flags} ({Body.Length} bytes)";
}

/// <summary>A link by name (IFLA_IFNAME, ifi_index 0: the kernel looks the name up) or by ifindex.</summary>
public readonly record struct LinkRef
{
    private LinkRef(string? name, int index)
    {
        Name = name;
        Index = index;
    }

    public string? Name { get; }

    public int Index { get; }

    /// <summary>A name the kernel accepts (dev_valid_name): 1–15 bytes, not "." or "..", no '/', ':' or white space.</summary>
    public static LinkRef ByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes is 0 or > 15 || name is "." or ".." || name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c)))
            throw new ArgumentException($"\"{name}\" is not a valid interface name", nameof(name));
        return new LinkRef(name, 0);
    }

    public static LinkRef ByIndex(int index) =>
        index > 0 ? new LinkRef(null, index) : throw new ArgumentOutOfRangeException(nameof(index), index, "an ifindex is positive");

    public static implicit operator LinkRef(string name) => ByName(name);

    public override string ToString() => Name ?? $"ifindex {Index}";
}

/// <summary>
/// A network namespace as a request names it: IFLA_NET_NS_FD (a descriptor of ours, open on /var/run/netns/NAME or
/// /proc/PID/ns/net, valid while the request is sent) or IFLA_NET_NS_PID (the namespace of a process).
/// </summary>
public sealed record NetnsRef
{
    private NetnsRef(ushort attribute, int value)
    {
        Attribute = attribute;
        Value = value;
    }

    public ushort Attribute { get; }

    public int Value { get; }

    public static NetnsRef Fd(int fd) => fd >= 0 ? new NetnsRef(Ifla.NetNsFd, fd) : throw new ArgumentOutOfRangeException(nameof(fd));

    public static NetnsRef Pid(int pid) => pid > 0 ? new NetnsRef(Ifla.NetNsPid, pid) : throw new ArgumentOutOfRangeException(nameof(pid));

    public override string ToString() => Attribute == Ifla.NetNsFd ? $"netns fd {Value}" : $"netns of pid {Value}";
}

/// <summary>What `ip link set` changes; null leaves a value as it is. At least one must be set.</summary>
public sealed record LinkSettings
{
    /// <summary>ifi_flags/ifi_change IFF_UP: up (true) or down (false).</summary>
    public bool? Up { get; init; }

    public int? Mtu { get; init; }

    /// <summary>A MAC address, "aa:bb:cc:dd:ee:ff".</summary>
    public string? Address { get; init; }

    public uint? TxQueueLength { get; init; }

    /// <summary>IFLA_IFALIAS; "" clears it.</summary>
    public string? Alias { get; init; }

    /// <summary>IFLA_MASTER: the master's ifindex; 0 = nomaster.</summary>
    public int? Master { get; init; }

    /// <summary>Move the link to this namespace (`ip link set NAME netns NS`).</summary>
    public NetnsRef? Netns { get; init; }

    internal bool SetsNothing => Up is null && Mtu is null && Address is null && TxQueueLength is null && Alias is null && Master is null && Netns is null;
}

/// <summary>The fixed family headers.</summary>
internal static class Headers
{
    /// <summary>struct ifinfomsg {u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change}.</summary>
    public static byte[] IfInfoMsg(int index = 0, InterfaceFlags flags = 0, InterfaceFlags change = 0, byte family = 0)
    {
        var bytes = new byte[Wire.IfInfoMsgSize];
        bytes[0] = family;
        var f = (uint)flags;
        var c = (uint)change;
        MemoryMarshal.Write(bytes.AsSpan(4), in index);
        MemoryMarshal.Write(bytes.AsSpan(8), in f);
        MemoryMarshal.Write(bytes.AsSpan(12), in c);
        return bytes;
    }

    /// <summary>struct ifaddrmsg {u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index}.</summary>
    public static byte[] IfAddrMsg(byte family, byte prefixLength = 0, byte scope = 0, int index = 0, byte flags = 0)
    {
        var bytes = new byte[Wire.IfAddrMsgSize];
        bytes[0] = family;
        bytes[1] = prefixLength;
        bytes[2] = flags;
        bytes[3] = scope;
        MemoryMarshal.Write(bytes.AsSpan(4), in index);
        return bytes;
    }

    /// <summary>struct rtmsg {u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags}.</summary>
    public static byte[] RtMsg(byte family, byte destinationLength = 0, byte table = 0, byte protocol = 0, byte scope = 0, byte type = 0) =>
        [family, destinationLength, 0, 0, table, protocol, scope, type, 0, 0, 0, 0];

    /// <summary>struct ndmsg {u8 family; u8 pad1; u16 pad2; s32 ifindex; u16 state; u8 flags; u8 type}.</summary>
    public static byte[] NdMsg(byte family) => [family, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
}
