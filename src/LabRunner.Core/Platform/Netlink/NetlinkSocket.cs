using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// A NETLINK_ROUTE socket: socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), bound to a port id the kernel
/// picks, with extended ACKs on (the kernel's own error texts, as iproute2 asks for them) and capped ACKs (an error
/// echoes only the request's header). One request at a time: a request goes out with the next sequence number and
/// its replies are read until its ACK, its error or (a dump) NLMSG_DONE.
/// <para>
/// The kernel handles an rtnetlink request inside sendto and has queued the answer before sendto returns (a dump's
/// further parts are made while they are read), so an exchange is short and runs on the caller's thread; each wait
/// for a datagram is a poll(2) in slices of 50 ms, so the cancellation token or <see cref="Timeout"/> ends a wait that
/// should never happen. The async methods wait asynchronously for the socket when another exchange holds it.
/// </para>
/// <para>
/// A socket belongs to the network namespace it was created in, for its whole life: <see cref="OpenIn(string, string)"/> makes one
/// inside another namespace by switching a dedicated thread there (setns) for the socket(2) call only, as iproute2's
/// `ip -n` and vishvananda/netlink do; the process's own threads never change namespace. The thread is a long-lived
/// one (<see cref="NamespaceThread"/>): a socket then costs two setns, not a thread's creation.
/// </para>
/// </summary>
public sealed class NetlinkSocket : IDisposable
{
    private const int AF_NETLINK = 16, SOCK_RAW = 3, SOCK_CLOEXEC = 0x80000, NETLINK_ROUTE = 0;
    private const int SOL_NETLINK = 270, NETLINK_CAP_ACK = 10, NETLINK_EXT_ACK = 11;
    private const int MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_PEEK = 0x02;
    private const short POLLIN = 1;
    private const int O_RDONLY_CLOEXEC = 0x80000;
    private const int CLONE_NEWNET = 0x40000000;
    private const int SockaddrNlSize = 12;
    private const int PollSliceMs = 50;
    private const int DumpAttempts = 3;

    private readonly FdHandle _fd;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private byte[] _buffer = new byte[32 * 1024];
    private uint _sequence;
    private string? _broken;

    private NetlinkSocket(FdHandle fd, uint portId)
    {
        _fd = fd;
        PortId = portId;
    }

    /// <summary>The port id the kernel gave this socket (nlmsg_pid of its replies).</summary>
    public uint PortId { get; }

    /// <summary>How long one exchange may wait for the kernel (10 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A socket in the calling thread's network namespace.</summary>
    /// <exception cref="NetlinkException">socket, setsockopt or bind failed (iproute2's words).</exception>
    public static NetlinkSocket Open()
    {
        var fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) throw Failure("Cannot open netlink socket");
        var handle = new FdHandle(fd);
        try
        {
            var on = 1;
            // Both are refused by old kernels; iproute2 goes on without them, and so do we.
            _ = setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, ref on, sizeof(int));
            _ = setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, ref on, sizeof(int));
            var address = new byte[SockaddrNlSize];
            address[0] = AF_NETLINK; // nl_family; nl_pid 0: the kernel picks; nl_groups 0: no multicast
            if (bind(fd, address, address.Length) < 0) throw Failure("Cannot bind netlink socket");
            var length = address.Length;
            if (getsockname(fd, address, ref length) < 0 || length != SockaddrNlSize) throw Failure("Cannot getsockname");
            return new NetlinkSocket(handle, MemoryMarshal.Read<uint>(address.AsSpan(4)));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A socket inside the network namespace <paramref name="namespacePath"/> (/var/run/netns/NAME, /proc/PID/ns/net):
    /// a new thread enters it with setns, creates the socket, goes back and ends. <paramref name="name"/> is how the
    /// errors name the namespace (iproute2's <c>Cannot open network namespace "NAME": …</c>).
    /// </summary>
    /// <exception cref="NetlinkException">The namespace cannot be opened or entered, or the socket not made.</exception>
    public static NetlinkSocket OpenIn(string namespacePath, string? name = null) =>
        OpenIn(namespacePath, NamespaceErrorTexts.IpNetns(name ?? namespacePath));

    /// <summary>As <see cref="OpenIn(string, string)"/>, a failure told in <paramref name="errors"/>' words (nsenter's for /proc/PID/ns/net).</summary>
    public static NetlinkSocket OpenIn(string namespacePath, NamespaceErrorTexts errors)
    {
        ArgumentNullException.ThrowIfNull(namespacePath);
        ArgumentNullException.ThrowIfNull(errors);
        return InNamespace(namespacePath, errors, Open);
    }

    /// <summary>
    /// <paramref name="make"/> run on the <see cref="NamespaceThread"/> while it is in <paramref name="namespacePath"/>:
    /// a socket it makes belongs to that namespace for its life (a netlink socket here, a ping's ICMP socket in
    /// <see cref="IcmpPing"/>). A failure to get there is a <see cref="NetlinkException"/> in <paramref name="errors"/>' words.
    /// </summary>
    internal static T InNamespace<T>(string namespacePath, NamespaceErrorTexts errors, Func<T> make) =>
        NamespaceThread.Run(() => InNamespaceOnThisThread(namespacePath, errors, make));

    private static T InNamespaceOnThisThread<T>(string namespacePath, NamespaceErrorTexts errors, Func<T> make)
    {
        var own = open("/proc/thread-self/ns/net", O_RDONLY_CLOEXEC);
        if (own < 0) throw Failure("Cannot open this thread's network namespace");
        using var ownHandle = new FdHandle(own);
        var target = open(namespacePath, O_RDONLY_CLOEXEC);
        if (target < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new NetlinkException(errno, errors.CannotOpen(errno));
        }
        using var targetHandle = new FdHandle(target);
        if (setns(target, CLONE_NEWNET) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new NetlinkException(errno, errors.CannotEnter(errno));
        }
        try
        {
            return make();
        }
        finally
        {
            // If this fails the thread is still in the other namespace: it is retired, and the next socket gets a new one.
            if (setns(own, CLONE_NEWNET) < 0) NamespaceThread.RetireCurrent();
        }
    }

    /// <summary>Sends <paramref name="request"/> and returns its replies (the data messages; an ACK returns none).</summary>
    /// <exception cref="NetlinkException">The kernel refused it; the text is iproute2's for the same failure.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; a socket cancelled while waiting for replies is not reusable.</exception>
    /// <exception cref="TimeoutException">No answer within <see cref="Timeout"/>; the socket is not reusable.</exception>
    public async Task<NetlinkExchange> SendAsync(NetlinkRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Exchange(request, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The synchronous form of <see cref="SendAsync"/>.</summary>
    public NetlinkExchange Send(NetlinkRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        _gate.Wait(cancellationToken);
        try
        {
            return Exchange(request, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A change (link, address, route): sent, and its ACK awaited.</summary>
    public async Task ExecuteAsync(NetlinkRequest request, CancellationToken cancellationToken = default) =>
        await SendAsync(request, cancellationToken).ConfigureAwait(false);

    /// <summary>Every link of the socket's namespace.</summary>
    public Task<IReadOnlyList<NlLink>> LinksAsync(CancellationToken cancellationToken = default) =>
        DumpAsync(Rtnl.DumpLinks(), NetlinkMessageType.NewLink, NlLink.Parse, cancellationToken);

    /// <summary>One link.</summary>
    /// <exception cref="NetlinkException">No such link: ENODEV, <c>Cannot find device "NAME"</c>.</exception>
    public async Task<NlLink> LinkAsync(LinkRef link, CancellationToken cancellationToken = default)
    {
        var exchange = await SendAsync(Rtnl.GetLink(link), cancellationToken).ConfigureAwait(false);
        return exchange.Messages.Where(m => m.Type == NetlinkMessageType.NewLink).Select(NlLink.Parse).FirstOrDefault()
            ?? throw new NetlinkProtocolException($"RTM_GETLINK {link} was acknowledged without the link");
    }

    /// <summary>One link, or null if there is none of that name or index.</summary>
    public async Task<NlLink?> FindLinkAsync(LinkRef link, CancellationToken cancellationToken = default)
    {
        try
        {
            return await LinkAsync(link, cancellationToken).ConfigureAwait(false);
        }
        catch (NetlinkException e) when (e.Errno == Iproute2Errors.ENODEV)
        {
            return null;
        }
    }

    /// <summary>Every address of the socket's namespace, of one family or (Unspecified) both.</summary>
    public Task<IReadOnlyList<NlAddress>> AddressesAsync(AddressFamily family = AddressFamily.Unspecified, CancellationToken cancellationToken = default) =>
        DumpAsync(Rtnl.DumpAddresses(family), NetlinkMessageType.NewAddr, NlAddress.Parse, cancellationToken);

    /// <summary>Every route of the socket's namespace, every table.</summary>
    public Task<IReadOnlyList<NlRoute>> RoutesAsync(AddressFamily family = AddressFamily.Unspecified, CancellationToken cancellationToken = default) =>
        DumpAsync(Rtnl.DumpRoutes(family), NetlinkMessageType.NewRoute, NlRoute.Parse, cancellationToken);

    /// <summary>Every neighbour entry of the socket's namespace.</summary>
    public Task<IReadOnlyList<NlNeighbour>> NeighboursAsync(AddressFamily family = AddressFamily.Unspecified, CancellationToken cancellationToken = default) =>
        DumpAsync(Rtnl.DumpNeighbours(family), NetlinkMessageType.NewNeigh, NlNeighbour.Parse, cancellationToken);

    /// <summary>A dump, parsed; read again (up to 3 times) when the kernel says the table changed during it.</summary>
    private async Task<IReadOnlyList<T>> DumpAsync<T>(NetlinkRequest request, NetlinkMessageType type, Func<NetlinkMessage, T> parse, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var exchange = await SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (exchange.Interrupted && attempt < DumpAttempts) continue;
            if (exchange.Interrupted)
                throw new NetlinkException(Iproute2Errors.EINTR, "Dump was interrupted and may be inconsistent.");
            return exchange.Messages.Where(m => m.Type == type).Select(parse).ToList();
        }
    }

    private NetlinkExchange Exchange(NetlinkRequest request, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_fd.IsClosed, this);
        if (_broken is not null) throw new InvalidOperationException($"this netlink socket cannot be used again: {_broken}");
        cancellationToken.ThrowIfCancellationRequested();
        var added = false;
        _fd.DangerousAddRef(ref added);
        try
        {
            var fd = (int)_fd.DangerousGetHandle();
            var exchange = new NetlinkExchange(request, unchecked(++_sequence), PortId);
            var bytes = request.Encode(exchange.Sequence);
            var address = new byte[SockaddrNlSize];
            address[0] = AF_NETLINK; // to the kernel: nl_pid 0
            while (sendto(fd, bytes, bytes.Length, 0, address, address.Length) < 0)
            {
                if (Marshal.GetLastPInvokeError() != Iproute2Errors.EINTR) throw Failure("Cannot talk to rtnetlink");
            }
            // From here until the exchange is over, leaving early leaves replies (or a dump) behind on the socket.
            try
            {
                var deadline = Environment.TickCount64 + (long)Timeout.TotalMilliseconds;
                while (!exchange.Take(Receive(fd, deadline, cancellationToken)))
                {
                }
                return exchange;
            }
            catch (Exception e) when (!exchange.IsComplete)
            {
                _broken = $"{request.Type} was left unanswered ({e.GetType().Name})";
                throw;
            }
        }
        finally
        {
            if (added) _fd.DangerousRelease();
        }
    }

    /// <summary>The next datagram (poll in slices, then recv; a datagram larger than the buffer grows it first).</summary>
    private ReadOnlySpan<byte> Receive(int fd, long deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = deadline - Environment.TickCount64;
            if (left <= 0) throw new TimeoutException($"rtnetlink did not answer within {Timeout.TotalSeconds:0.#} s");
            var pfd = new PollFd { Fd = fd, Events = POLLIN };
            var ready = poll(ref pfd, 1, (int)Math.Min(left, PollSliceMs));
            if (ready < 0 && Marshal.GetLastPInvokeError() != Iproute2Errors.EINTR) throw Failure("netlink poll error");
            if (ready <= 0) continue;
            var size = recv(fd, _buffer, _buffer.Length, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
            if (size < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno is Iproute2Errors.EINTR or Iproute2Errors.EAGAIN) continue;
                throw Failure("netlink receive error");
            }
            if (size > _buffer.Length) _buffer = new byte[size];
            var received = recv(fd, _buffer, _buffer.Length, MSG_DONTWAIT);
            if (received < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno is Iproute2Errors.EINTR or Iproute2Errors.EAGAIN) continue;
                throw Failure("netlink receive error");
            }
            if (received == 0) throw new NetlinkProtocolException("EOF on netlink");
            return _buffer.AsSpan(0, (int)received);
        }
    }

    private static NetlinkException Failure(string what)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new NetlinkException(errno, $"{what}: {Iproute2Errors.StrError(errno)}");
    }

    public void Dispose()
    {
        _fd.Dispose();
        _gate.Dispose();
    }

    /// <summary>A descriptor closed with close(2).</summary>
    private sealed class FdHandle : SafeHandle
    {
        public FdHandle(int fd) : base(-1, ownsHandle: true) => SetHandle(fd);

        public override bool IsInvalid => handle == -1;

        protected override bool ReleaseHandle() => close((int)handle) == 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [DllImport("libc", SetLastError = true)] private static extern int socket(int domain, int type, int protocol);
    [DllImport("libc", SetLastError = true)] private static extern int setsockopt(int fd, int level, int name, ref int value, int length);
    [DllImport("libc", SetLastError = true)] private static extern int bind(int fd, byte[] address, int length);
    [DllImport("libc", SetLastError = true)] private static extern int getsockname(int fd, byte[] address, ref int length);
    [DllImport("libc", SetLastError = true)] private static extern nint sendto(int fd, byte[] buffer, nint length, int flags, byte[] address, int addressLength);
    [DllImport("libc", SetLastError = true)] private static extern nint recv(int fd, byte[] buffer, nint length, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int poll(ref PollFd fds, nuint count, int timeoutMs);
    [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags);
    [DllImport("libc", SetLastError = true)] private static extern int setns(int fd, int nstype);
    [DllImport("libc", SetLastError = true)] private static extern int close(int fd);
}
