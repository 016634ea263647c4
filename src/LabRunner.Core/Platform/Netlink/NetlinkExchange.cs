namespace LabRunner.Platform.Netlink;

/// <summary>
/// The replies to one request, datagram by datagram: only messages carrying the request's sequence number and our
/// port id count (anything else is left over from an earlier exchange); a request ends at its ACK (NLMSG_ERROR 0),
/// a dump at NLMSG_DONE; an NLMSG_ERROR with an errno ends either with a <see cref="NetlinkException"/>. No I/O here:
/// <see cref="NetlinkSocket"/> feeds it what it receives.
/// </summary>
public sealed class NetlinkExchange
{
    private readonly List<NetlinkMessage> _messages = [];

    public NetlinkExchange(NetlinkRequest request, uint sequence, uint portId)
    {
        Request = request;
        Sequence = sequence;
        PortId = portId;
    }

    public NetlinkRequest Request { get; }

    public uint Sequence { get; }

    public uint PortId { get; }

    public bool IsComplete { get; private set; }

    /// <summary>A part of the dump carried NLM_F_DUMP_INTR: the table changed while it was read.</summary>
    public bool Interrupted { get; private set; }

    /// <summary>The data messages received so far (RTM_NEWLINK, …), without the ACK or NLMSG_DONE.</summary>
    public IReadOnlyList<NetlinkMessage> Messages => _messages;

    /// <summary>Takes one datagram; true once the exchange is over.</summary>
    /// <exception cref="NetlinkException">The kernel refused the request (or the dump ended with an error).</exception>
    /// <exception cref="NetlinkProtocolException">Bytes that are not netlink messages, or NLMSG_OVERRUN.</exception>
    public bool Take(ReadOnlySpan<byte> datagram)
    {
        if (IsComplete) throw new InvalidOperationException("the exchange is already complete");
        foreach (var message in NetlinkMessage.Split(datagram))
        {
            if (message.Sequence != Sequence || message.PortId != PortId) continue;
            if ((message.Flags & NetlinkFlags.DumpInterrupted) != 0) Interrupted = true;
            switch (message.Type)
            {
                case NetlinkMessageType.Noop:
                    break;
                case NetlinkMessageType.Overrun:
                    IsComplete = true;
                    throw new NetlinkProtocolException("the kernel reported NLMSG_OVERRUN: replies were lost");
                case NetlinkMessageType.Error:
                    var error = NetlinkError.Parse(message);
                    if (!error.IsAck)
                    {
                        IsComplete = true;
                        throw NetlinkException.For(error, Request);
                    }
                    if (!Request.IsDump)
                    {
                        IsComplete = true;
                        return true;
                    }
                    break;
                case NetlinkMessageType.Done:
                    if (!Request.IsDump) break;
                    IsComplete = true;
                    // NLMSG_DONE carries an int: 0, or the negative errno that cut the dump short.
                    if (message.Body.Length >= 4 && System.Runtime.InteropServices.MemoryMarshal.Read<int>(message.Body.Span) is < 0 and var code)
                        throw NetlinkException.For(new NetlinkError(-code, Sequence, null), Request);
                    return true;
                default:
                    _messages.Add(message);
                    break;
            }
        }
        return false;
    }
}
