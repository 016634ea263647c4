using System.Runtime.InteropServices;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// An NLMSG_ERROR message: struct nlmsgerr {int error; struct nlmsghdr msg;}, then the rest of the request unless
/// NLM_F_CAPPED, then extended-ACK attributes if NLM_F_ACK_TLVS (NLMSGERR_ATTR_MSG: the kernel's own explanation).
/// An error of 0 is an ACK.
/// </summary>
public sealed record NetlinkError(int Errno, uint EchoedSequence, string? ExtendedMessage)
{
    public bool IsAck => Errno == 0;

    private const ushort AttrMsg = 1; // NLMSGERR_ATTR_MSG

    /// <exception cref="NetlinkProtocolException">Not an NLMSG_ERROR, or too short.</exception>
    public static NetlinkError Parse(NetlinkMessage message)
    {
        if (message.Type != NetlinkMessageType.Error)
            throw new NetlinkProtocolException($"message type {(ushort)message.Type} is not NLMSG_ERROR");
        var body = message.Body;
        if (body.Length < 4) throw new NetlinkProtocolException($"an NLMSG_ERROR of {body.Length} bytes has no error code");
        var errno = -MemoryMarshal.Read<int>(body.Span);
        if (body.Length < Wire.ErrorHeaderSize) return new NetlinkError(errno, 0, null);
        var echoed = body.Span[4..];
        var echoedLength = MemoryMarshal.Read<uint>(echoed);
        var echoedSequence = MemoryMarshal.Read<uint>(echoed[8..]);
        string? text = null;
        if ((message.Flags & NetlinkFlags.AckTlvs) != 0)
        {
            var tlvs = (message.Flags & NetlinkFlags.Capped) != 0 ? Wire.ErrorHeaderSize : 4 + Wire.Align((int)echoedLength);
            if (tlvs <= body.Length) text = NetlinkAttributes.Parse(body[tlvs..]).String(AttrMsg);
        }
        return new NetlinkError(errno, echoedSequence, string.IsNullOrEmpty(text) ? null : text);
    }
}

/// <summary>
/// A request the kernel refused, or a netlink socket call that failed. <see cref="Exception.Message"/> is what
/// iproute2 prints for the same failure (<see cref="Iproute2Errors"/>), so a lab's <c>fails-with</c> text matches
/// whichever driver ran.
/// </summary>
public sealed class NetlinkException : Exception
{
    public NetlinkException(int errno, string message, string? extendedMessage = null) : base(message)
    {
        Errno = errno;
        ExtendedMessage = extendedMessage;
    }

    /// <summary>The positive errno (EEXIST = 17).</summary>
    public int Errno { get; }

    /// <summary>The kernel's extended-ACK text, if it gave one.</summary>
    public string? ExtendedMessage { get; }

    /// <summary>The exception for an NLMSG_ERROR answering <paramref name="request"/>.</summary>
    public static NetlinkException For(NetlinkError error, NetlinkRequest request) =>
        new(error.Errno, Iproute2Errors.Text(error.Errno, error.ExtendedMessage, request.Device), error.ExtendedMessage);
}

/// <summary>
/// What iproute2 prints when the kernel refuses a request (lib/libnetlink.c, lib/utils.c, lib/namespace.c):
/// <list type="bullet">
/// <item>a device named by the user that does not exist: <c>Cannot find device "NAME"</c> — iproute2 resolves the
/// name before it sends anything (ll_name_to_index, then nodev()); this layer sends the name and gets ENODEV;</item>
/// <item>an extended ACK message from the kernel: <c>Error: MESSAGE.</c> (a period added if missing);</item>
/// <item>otherwise <c>RTNETLINK answers: </c> and strerror(errno), e.g. <c>RTNETLINK answers: File exists</c>.</item>
/// </list>
/// strerror is the C library's own (Marshal.GetPInvokeErrorMessage), the text iproute2 prints on the same machine.
/// </summary>
public static class Iproute2Errors
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ERANGE = 34;
    public const int EMSGSIZE = 90;
    public const int EOPNOTSUPP = 95;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETUNREACH = 101;
    public const int ENOBUFS = 105;

    /// <summary>The text iproute2 prints for a request refused with <paramref name="errno"/>.</summary>
    public static string Text(int errno, string? extendedMessage = null, string? device = null)
    {
        if (errno == ENODEV && device is not null) return $"Cannot find device \"{device}\"";
        if (!string.IsNullOrEmpty(extendedMessage))
            return extendedMessage.EndsWith('.') ? $"Error: {extendedMessage}" : $"Error: {extendedMessage}.";
        return $"RTNETLINK answers: {StrError(errno)}";
    }

    /// <summary>strerror(3) of this machine's C library.</summary>
    public static string StrError(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>`ip -n NAME …` when the namespace cannot be opened (netns_switch).</summary>
    public static string CannotOpenNamespace(string name, int errno) => $"Cannot open network namespace \"{name}\": {StrError(errno)}";

    /// <summary>`ip -n NAME …` when setns fails (netns_switch).</summary>
    public static string CannotEnterNamespace(string name, int errno) => $"setting the network namespace \"{name}\" failed: {StrError(errno)}";
}

/// <summary>
/// What a command prints when it cannot reach a network namespace, by errno: it cannot open the namespace's file, or
/// setns refuses it.
/// </summary>
public sealed record NamespaceErrorTexts(Func<int, string> CannotOpen, Func<int, string> CannotEnter)
{
    /// <summary><c>ip -n NAME</c> (netns_switch).</summary>
    public static NamespaceErrorTexts IpNetns(string name) =>
        new(errno => Iproute2Errors.CannotOpenNamespace(name, errno), errno => Iproute2Errors.CannotEnterNamespace(name, errno));

    /// <summary><c>nsenter -t PID -n</c> (util-linux): <c>nsenter: cannot open /proc/PID/ns/net: No such file or directory</c>.</summary>
    public static NamespaceErrorTexts Nsenter(string path) =>
        new(errno => $"nsenter: cannot open {path}: {Iproute2Errors.StrError(errno)}",
            errno => $"nsenter: reassociate to namespace 'ns/net' failed: {Iproute2Errors.StrError(errno)}");
}
