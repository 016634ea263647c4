using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LabRunner.Platform.Netlink;

/// <summary>
/// busybox's IPv4 <c>ping</c> as the netlink driver runs it, in-process: the argv a place's ping has
/// (<c>busybox ping</c>, <c>ip netns exec NAME busybox ping</c>, or the process runtime's
/// <c>nsenter -t PID -n -u -- busybox ping</c>) with <c>-c COUNT</c> and any of <c>-i SECS</c>, <c>-s SIZE</c>,
/// <c>-W SECS</c>, and a dotted IPv4 address. Anything else (a host name, IPv6, another option, iputils' ping with DF)
/// is not one: the process runs it.
/// </summary>
public sealed record PingCommand(IpNamespace Where, int Count, TimeSpan Interval, int Size, TimeSpan Wait, IPAddress Target)
{
    /// <summary>busybox's defaults: one echo request a second, 56 data bytes, 10 s for a first answer.</summary>
    public static PingCommand? Parse(IReadOnlyList<string> argv)
    {
        ArgumentNullException.ThrowIfNull(argv);
        IpNamespace where;
        int at;
        switch (argv)
        {
            case ["busybox", "ping", ..]:
                (where, at) = (CallerNamespace.Instance, 2);
                break;
            case ["ip", "netns", "exec", var name, "busybox", "ping", ..] when IpWords.IsNetnsName(name):
                (where, at) = (new NamedNamespace(name), 6);
                break;
            case ["nsenter", "-t", var pid, "-n", "-u", "--", "busybox", "ping", ..] when IpWords.Pid(pid) is { } p:
                (where, at) = (new ProcessNamespace(p) { WithUts = true }, 8);
                break;
            default:
                return null;
        }
        int? count = null;
        var (interval, size, wait) = (TimeSpan.FromSeconds(1), 56, TimeSpan.FromSeconds(10));
        for (; at < argv.Count - 1; at += 2)
        {
            var value = argv[at + 1];
            switch (argv[at])
            {
                case "-c" when Whole(value) is { } c && c is >= 1 and <= 100_000:
                    count = c;
                    break;
                case "-i" when double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var i) && i is >= 0.001 and <= 3600:
                    interval = TimeSpan.FromSeconds(i);
                    break;
                case "-s" when Whole(value) is { } s && s <= 65_507 - 8:
                    size = s;
                    break;
                case "-W" when Whole(value) is { } w && w is >= 1 and <= 3600:
                    wait = TimeSpan.FromSeconds(w);
                    break;
                default:
                    return null;
            }
        }
        if (at != argv.Count - 1 || count is null) return null;
        return IPAddress.TryParse(argv[^1], out var target) && target.AddressFamily == AddressFamily.InterNetwork && target.ToString() == argv[^1]
            ? new PingCommand(where, count.Value, interval, size, wait, target)
            : null;
    }

    private static int? Whole(string word) =>
        int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}

/// <summary>
/// Runs a <see cref="PingCommand"/> as busybox 1.35's ping does, over a raw ICMP socket made in the place's namespace
/// (<see cref="NetlinkSocket.InNamespace"/>), and prints what busybox prints, with its exit code: a request every
/// <c>-i</c>; after the last, up to <c>-W</c> for an answer when none came yet, else about two round trips (at least
/// 1 s); done as soon as every request is answered; exit 0 when one was, 1 when none was or a send failed
/// (<c>ping: sendto: Network is unreachable</c>, and no statistics, as busybox dies there). Packets are busybox's:
/// no DF forced, the identifier its own, the data zeros.
/// </summary>
public static class IcmpPing
{
    private const int IcmpHeader = 8, EchoRequest = 8, EchoReply = 0;

    public static async Task<IpResult> RunAsync(PingCommand ping, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ping);
        Socket socket;
        try
        {
            socket = ping.Where.Path is { } path ? NetlinkSocket.InNamespace(path, ping.Where.Errors, NewSocket) : NewSocket();
        }
        catch (NetlinkException e)
        {
            return IpResult.Failed(ping.Where.SwitchFailureExitCode, e.Message);
        }
        using (socket)
            return await ExchangeAsync(socket, ping, ct);
    }

    private static Socket NewSocket() => new(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp);

    private static async Task<IpResult> ExchangeAsync(Socket socket, PingCommand ping, CancellationToken ct)
    {
        var target = ping.Target.ToString();
        var stdout = new StringBuilder($"PING {target} ({target}): {ping.Size} data bytes\n");
        var id = (ushort)Random.Shared.Next(1, 65_536);
        var sentAt = new long[ping.Count];
        var answered = new bool[ping.Count];
        var times = new List<long>(); // microseconds, answers and duplicates alike (busybox's tsum / (nrecv + nrepeats))
        var (received, duplicates, transmitted) = (0, 0, 0);
        var clock = Stopwatch.StartNew();
        var buffer = new byte[65_536];
        var to = new IPEndPoint(ping.Target, 0);

        // Reads answers until the clock reads `until` or every request is answered.
        async Task ReceiveUntilAsync(TimeSpan until)
        {
            while (received < ping.Count && clock.Elapsed < until)
            {
                using var slice = CancellationTokenSource.CreateLinkedTokenSource(ct);
                slice.CancelAfter(until - clock.Elapsed);
                SocketReceiveFromResult got;
                try
                {
                    got = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), slice.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    return;
                }
                var now = clock.Elapsed.Ticks / 10;
                if (Answer(buffer.AsSpan(0, got.ReceivedBytes), id) is not { } answer || answer.Seq >= transmitted) continue;
                var micros = Math.Max(0, now - sentAt[answer.Seq]);
                times.Add(micros);
                var dup = answered[answer.Seq];
                if (dup) duplicates++;
                else (answered[answer.Seq], received) = (true, received + 1);
                stdout.Append(CultureInfo.InvariantCulture, $"{answer.Length} bytes from {answer.From}: seq={answer.Seq} ttl={answer.Ttl} time={Millis(micros)} ms{(dup ? " (DUP!)" : "")}\n");
            }
        }

        var packet = new byte[IcmpHeader + ping.Size];
        for (var seq = 0; seq < ping.Count; seq++)
        {
            Request(packet, id, (ushort)seq);
            sentAt[seq] = clock.Elapsed.Ticks / 10;
            try
            {
                await socket.SendToAsync(packet, SocketFlags.None, to, ct);
            }
            catch (SocketException e)
            {
                // busybox dies on a failed sendto (bb_perror_msg_and_die): no statistics, exit 1.
                return new IpResult(1, stdout.ToString(), $"ping: sendto: {e.Message}\n");
            }
            transmitted++;
            if (seq < ping.Count - 1) await ReceiveUntilAsync(ping.Interval * (seq + 1));
        }
        // After the last request: -W for a first answer; once one came, about two of the slowest round trips (>= 1 s).
        var slowest = times.Count > 0 ? times.Max() : 0;
        var expire = received > 0 ? TimeSpan.FromSeconds(Math.Max(1, slowest / (512 * 1024))) : ping.Wait;
        await ReceiveUntilAsync(clock.Elapsed + expire);

        stdout.Append(CultureInfo.InvariantCulture, $"\n--- {target} ping statistics ---\n{transmitted} packets transmitted, {received} packets received, ");
        if (duplicates > 0) stdout.Append(CultureInfo.InvariantCulture, $"{duplicates} duplicates, ");
        stdout.Append(CultureInfo.InvariantCulture, $"{(transmitted - received) * 100 / transmitted}% packet loss\n");
        if (times.Count > 0)
            stdout.Append(CultureInfo.InvariantCulture, $"round-trip min/avg/max = {Millis(times.Min())}/{Millis(times.Sum() / times.Count)}/{Millis(times.Max())} ms\n");
        return new IpResult(received == 0 ? 1 : 0, stdout.ToString(), "");
    }

    /// <summary>busybox's "%u.%03u" of microseconds.</summary>
    public static string Millis(long micros) => string.Create(CultureInfo.InvariantCulture, $"{micros / 1000}.{micros % 1000:000}");

    /// <summary>An echo request with the identifier and sequence number, its data zeros, its checksum filled in.</summary>
    public static void Request(Span<byte> packet, ushort id, ushort seq)
    {
        packet.Clear();
        packet[0] = EchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(packet[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(packet[6..], seq);
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], Checksum(packet));
    }

    /// <summary>The Internet checksum (RFC 1071) of <paramref name="data"/>.</summary>
    public static ushort Checksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (var i = 0; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (data.Length % 2 == 1) sum += (uint)data[^1] << 8;
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>An echo reply to us in what a raw IPv4 ICMP socket reads (IP header first): its ICMP length, sender, TTL, sequence number.</summary>
    public static (int Length, IPAddress From, int Ttl, ushort Seq)? Answer(ReadOnlySpan<byte> datagram, ushort id)
    {
        if (datagram.Length < 20 || datagram[0] >> 4 != 4) return null;
        var header = (datagram[0] & 0x0F) * 4;
        if (datagram.Length < header + IcmpHeader) return null;
        var icmp = datagram[header..];
        if (icmp[0] != EchoReply || BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]) != id) return null;
        return (icmp.Length, new IPAddress(datagram.Slice(12, 4)), datagram[8], BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]));
    }
}
