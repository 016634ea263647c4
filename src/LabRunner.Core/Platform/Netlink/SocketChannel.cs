using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// An <see cref="IRtnlChannel"/> over one <see cref="NetlinkSocket"/>, opened for one command in its namespace and
/// disposed with it.
/// </summary>
/// <remarks>
/// Never kept for the next command: an open netlink socket holds its network namespace alive. A socket cached for a
/// lab netns would keep that namespace, and the veth peers in it, after `ip netns delete` or a container's death, and
/// teardown's check would find them left over. Opening one costs a thread's setns and a socket (docs/PERFORMANCE.md).
/// </remarks>
public sealed class SocketChannel : IRtnlChannel, IDisposable
{
    private const int O_RDONLY_CLOEXEC = 0x80000;
    private readonly NetlinkSocket _socket;

    private SocketChannel(NetlinkSocket socket) => _socket = socket;

    /// <summary>A socket in <paramref name="where"/>.</summary>
    /// <exception cref="NetlinkException">The namespace cannot be opened or entered (its message is the command's own), or no socket.</exception>
    public static SocketChannel Open(IpNamespace where)
    {
        ArgumentNullException.ThrowIfNull(where);
        return new SocketChannel(where.Path is { } path ? NetlinkSocket.OpenIn(path, where.Errors) : NetlinkSocket.Open());
    }

    public Task<NlLink?> FindLinkAsync(string name, CancellationToken ct) => _socket.FindLinkAsync(name, ct);

    public Task SendAsync(NetlinkRequest request, CancellationToken ct) => _socket.ExecuteAsync(request, ct);

    public Task<IReadOnlyList<NlLink>> LinksAsync(CancellationToken ct) => _socket.LinksAsync(ct);

    public Task<IReadOnlyList<NlAddress>> AddressesAsync(AddressFamily family, CancellationToken ct) => _socket.AddressesAsync(family, ct);

    public Task<IReadOnlyList<NlRoute>> RoutesAsync(AddressFamily family, CancellationToken ct) => _socket.RoutesAsync(family, ct);

    public Task<IReadOnlyList<NlNeighbour>> NeighboursAsync(AddressFamily family, CancellationToken ct) => _socket.NeighboursAsync(family, ct);

    public NetnsDescriptor? OpenNamedNetns(string name)
    {
        var fd = open($"{IpWords.NetnsRunDirectory}/{name}", O_RDONLY_CLOEXEC);
        return fd < 0 ? null : new NetnsDescriptor(fd, () => close(fd));
    }

    public void Dispose() => _socket.Dispose();

    [DllImport("libc", SetLastError = true)] private static extern int open(string path, int flags);
    [DllImport("libc")] private static extern int close(int fd);
}
