using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// The wire format: a message is a 16-byte nlmsghdr, a fixed family header (ifinfomsg, ifaddrmsg, rtmsg, ndmsg) and
/// attributes; an attribute is a 4-byte rtattr (length, type) and its payload, padded to 4 bytes; a nested attribute's
/// payload is attributes. Integers are in host byte order (little-endian on every platform .NET runs on here), except
/// where a field says network order (a VXLAN port).
/// </summary>
public static class Wire
{
    public const int Alignment = 4;           // NLMSG_ALIGNTO, RTA_ALIGNTO
    public const int HeaderSize = 16;         // sizeof(struct nlmsghdr)
    public const int AttributeHeaderSize = 4; // sizeof(struct rtattr)
    public const int IfInfoMsgSize = 16;      // sizeof(struct ifinfomsg)
    public const int IfAddrMsgSize = 8;       // sizeof(struct ifaddrmsg)
    public const int RtMsgSize = 12;          // sizeof(struct rtmsg)
    public const int NdMsgSize = 12;          // sizeof(struct ndmsg)
    public const int ErrorHeaderSize = 20;    // sizeof(struct nlmsgerr): int error + the echoed nlmsghdr

    /// <summary>NLMSG_ALIGN / RTA_ALIGN.</summary>
    public static int Align(int length) => (length + Alignment - 1) & ~(Alignment - 1);

    /// <summary>The type bits of rta_type (NLA_TYPE_MASK: without NLA_F_NESTED and NLA_F_NET_BYTEORDER).</summary>
    public const ushort AttributeTypeMask = 0x3FFF;
}

/// <summary>
/// Builds one message's body (what follows the nlmsghdr): a fixed header, then attributes, each padded to 4 bytes;
/// a nest's length covers everything written inside it, padding included (as iproute2's addattr_nest_end and the
/// kernel's nla_nest_end count it).
/// </summary>
public sealed class NetlinkWriter
{
    private byte[] _buffer = new byte[128];
    private int _length;

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => Written.ToArray();

    /// <summary>Appends bytes as they are (a fixed header), then pads to 4.</summary>
    public NetlinkWriter Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Take(bytes.Length));
        Pad();
        return this;
    }

    /// <summary>An attribute: rtattr {rta_len = 4 + payload, rta_type}, the payload, padding to 4.</summary>
    public NetlinkWriter Attribute(ushort type, ReadOnlySpan<byte> payload)
    {
        var header = Take(Wire.AttributeHeaderSize);
        WriteHeader(header, Wire.AttributeHeaderSize + payload.Length, type);
        payload.CopyTo(Take(payload.Length));
        Pad();
        return this;
    }

    public NetlinkWriter U8(ushort type, byte value) => Attribute(type, [value]);

    public NetlinkWriter U32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        MemoryMarshal.Write(bytes, in value);
        return Attribute(type, bytes);
    }

    public NetlinkWriter S32(ushort type, int value) => U32(type, unchecked((uint)value));

    /// <summary>A u16 in network byte order (a port).</summary>
    public NetlinkWriter U16BigEndian(ushort type, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        return Attribute(type, bytes);
    }

    /// <summary>A NUL-terminated string (IFLA_IFNAME, IFLA_INFO_KIND: iproute2 sends strlen + 1).</summary>
    public NetlinkWriter String(ushort type, string value)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        return Attribute(type, bytes);
    }

    /// <summary>A string without its NUL (IFLA_IFALIAS, as iproute2 sends it; empty clears the alias).</summary>
    public NetlinkWriter StringWithoutNul(ushort type, string value) => Attribute(type, Encoding.UTF8.GetBytes(value));

    /// <summary>A nested attribute: its header, whatever <paramref name="content"/> writes, then its length patched.</summary>
    public NetlinkWriter Nested(ushort type, Action<NetlinkWriter> content)
    {
        var start = _length;
        Take(Wire.AttributeHeaderSize);
        content(this);
        Pad();
        WriteHeader(_buffer.AsSpan(start, Wire.AttributeHeaderSize), _length - start, type);
        return this;
    }

    private static void WriteHeader(Span<byte> header, int length, ushort type)
    {
        if (length > ushort.MaxValue) throw new ArgumentException($"a netlink attribute of {length} bytes is longer than rta_len can say");
        var len = (ushort)length;
        MemoryMarshal.Write(header, in len);
        MemoryMarshal.Write(header[2..], in type);
    }

    private Span<byte> Take(int count)
    {
        if (_length + count > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        var span = _buffer.AsSpan(_length, count);
        span.Clear();
        _length += count;
        return span;
    }

    private void Pad()
    {
        var aligned = Wire.Align(_length);
        if (aligned > _length) Take(aligned - _length);
    }
}

/// <summary>One message of a datagram: its nlmsghdr fields and its body (what follows the header).</summary>
public sealed record NetlinkMessage(NetlinkMessageType Type, NetlinkFlags Flags, uint Sequence, uint PortId, ReadOnlyMemory<byte> Body)
{
    /// <summary>
    /// Splits a datagram into its messages (NLMSG_OK / NLMSG_NEXT: each at a 4-byte boundary, each at least a header
    /// and no longer than what is left). The bodies are copies: the datagram's buffer may be reused.
    /// </summary>
    /// <exception cref="NetlinkProtocolException">A length that does not fit the datagram.</exception>
    public static IReadOnlyList<NetlinkMessage> Split(ReadOnlySpan<byte> datagram)
    {
        var copy = datagram.ToArray();
        var messages = new List<NetlinkMessage>();
        var offset = 0;
        while (copy.Length - offset >= Wire.HeaderSize)
        {
            var header = copy.AsSpan(offset);
            var length = MemoryMarshal.Read<uint>(header);
            if (length < Wire.HeaderSize || length > copy.Length - offset)
                throw new NetlinkProtocolException($"a netlink message says it is {length} bytes long, with {copy.Length - offset} left in the datagram");
            messages.Add(new NetlinkMessage(
                (NetlinkMessageType)MemoryMarshal.Read<ushort>(header[4..]),
                (NetlinkFlags)MemoryMarshal.Read<ushort>(header[6..]),
                MemoryMarshal.Read<uint>(header[8..]),
                MemoryMarshal.Read<uint>(header[12..]),
                copy.AsMemory(offset + Wire.HeaderSize, (int)length - Wire.HeaderSize)));
            offset += Wire.Align((int)length);
        }
        // The last message's padding may be missing (offset past the end); anything else left is not a message.
        if (copy.Length > offset)
            throw new NetlinkProtocolException($"{copy.Length - offset} bytes after the last netlink message of a datagram");
        return messages;
    }

    internal static void WriteHeader(Span<byte> bytes, NetlinkMessageType type, NetlinkFlags flags, uint sequence, uint portId)
    {
        var length = (uint)bytes.Length;
        var t = (ushort)type;
        var f = (ushort)flags;
        MemoryMarshal.Write(bytes, in length);
        MemoryMarshal.Write(bytes[4..], in t);
        MemoryMarshal.Write(bytes[6..], in f);
        MemoryMarshal.Write(bytes[8..], in sequence);
        MemoryMarshal.Write(bytes[12..], in portId);
    }
}

/// <summary>One attribute as read: its type (without the NESTED / NET_BYTEORDER bits) and its payload.</summary>
public readonly record struct NetlinkAttribute(ushort Type, ReadOnlyMemory<byte> Payload)
{
    public uint U32() => Payload.Length >= 4 ? MemoryMarshal.Read<uint>(Payload.Span) : throw Short(4);

    public int S32() => unchecked((int)U32());

    public byte U8() => Payload.Length >= 1 ? Payload.Span[0] : throw Short(1);

    public ushort U16BigEndian() => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload.Span) : throw Short(2);

    /// <summary>The text up to the first NUL (or the whole payload if there is none).</summary>
    public string String()
    {
        var span = Payload.Span;
        var nul = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? span : span[..nul]);
    }

    /// <summary>The attributes inside a nested attribute.</summary>
    public NetlinkAttributes Nested() => NetlinkAttributes.Parse(Payload);

    private NetlinkProtocolException Short(int needed) =>
        new($"netlink attribute {Type} has {Payload.Length} bytes where {needed} were expected");
}

/// <summary>The attributes of a message body or a nest, in order; a type given twice answers with its last value.</summary>
public sealed class NetlinkAttributes
{
    private readonly List<NetlinkAttribute> _all;

    private NetlinkAttributes(List<NetlinkAttribute> all) => _all = all;

    public IReadOnlyList<NetlinkAttribute> All => _all;

    /// <summary>RTA_OK / RTA_NEXT over <paramref name="bytes"/>: each at least a header, no longer than what is left.</summary>
    /// <exception cref="NetlinkProtocolException">An attribute whose length does not fit.</exception>
    public static NetlinkAttributes Parse(ReadOnlyMemory<byte> bytes)
    {
        var all = new List<NetlinkAttribute>();
        var offset = 0;
        while (bytes.Length - offset >= Wire.AttributeHeaderSize)
        {
            var span = bytes.Span[offset..];
            var length = MemoryMarshal.Read<ushort>(span);
            var type = (ushort)(MemoryMarshal.Read<ushort>(span[2..]) & Wire.AttributeTypeMask);
            if (length < Wire.AttributeHeaderSize || length > bytes.Length - offset)
                throw new NetlinkProtocolException($"netlink attribute {type} says it is {length} bytes long, with {bytes.Length - offset} left");
            all.Add(new NetlinkAttribute(type, bytes.Slice(offset + Wire.AttributeHeaderSize, length - Wire.AttributeHeaderSize)));
            offset += Wire.Align(length);
        }
        return new NetlinkAttributes(all);
    }

    public bool TryGet(ushort type, out NetlinkAttribute attribute)
    {
        for (var i = _all.Count - 1; i >= 0; i--)
        {
            if (_all[i].Type != type) continue;
            attribute = _all[i];
            return true;
        }
        attribute = default;
        return false;
    }

    public NetlinkAttribute? Get(ushort type) => TryGet(type, out var a) ? a : null;

    public uint? U32(ushort type) => TryGet(type, out var a) ? a.U32() : null;

    public int? S32(ushort type) => TryGet(type, out var a) ? a.S32() : null;

    public byte? U8(ushort type) => TryGet(type, out var a) ? a.U8() : null;

    public string? String(ushort type) => TryGet(type, out var a) ? a.String() : null;

    public NetlinkAttributes? Nested(ushort type) => TryGet(type, out var a) ? a.Nested() : null;
}

/// <summary>Bytes from the kernel that do not follow the netlink format (a length that does not fit, a short payload).</summary>
public sealed class NetlinkProtocolException(string message) : Exception(message);
