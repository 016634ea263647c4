using System.Net;
using LabRunner.Platform.Netlink;

namespace LabRunner.Tests.Unit;

/// <summary>
/// The netlink driver's in-process ping (<see cref="PingCommand"/>, <see cref="IcmpPing"/>) without a kernel: which argv
/// it runs itself (those a place's busybox ping has) and which it leaves to busybox, the echo request it sends, the
/// replies it counts, and busybox's way of printing times. Against the kernel and busybox itself: IcmpPingKernelSpecs.
/// </summary>
public sealed class IcmpPingSpecs
{
    [Theory]
    [InlineData("busybox ping -c 2 -W 1 10.0.0.1", "CallerNamespace", 2, 1.0, 56, 1)]
    [InlineData("ip netns exec lr-ab12cd-n1 busybox ping -c 3 -i 0.2 -W 1 172.16.100.1", "NamedNamespace", 3, 0.2, 56, 1)]
    [InlineData("nsenter -t 4242 -n -u -- busybox ping -c 1 -s 1400 -W 1 10.0.2.2", "ProcessNamespace", 1, 1.0, 1400, 1)]
    [InlineData("busybox ping -c 5 192.168.64.6", "CallerNamespace", 5, 1.0, 56, 10)] // busybox's defaults
    public void A_places_busybox_ping_is_run_in_process(string argv, string where, int count, double interval, int size, int wait)
    {
        var ping = PingCommand.Parse(argv.Split(' '));

        Assert.NotNull(ping);
        Assert.Equal(where, ping.Where.GetType().Name);
        Assert.Equal((count, TimeSpan.FromSeconds(interval), size, TimeSpan.FromSeconds(wait)), (ping.Count, ping.Interval, ping.Size, ping.Wait));
        Assert.Equal(IPAddress.Parse(argv.Split(' ')[^1]), ping.Target);
    }

    [Theory]
    [InlineData("busybox ping -c 2 -W 1 fd00:100::1")]                     // IPv6: busybox's
    [InlineData("busybox ping -c 2 -W 1 example.com")]                     // a name: busybox resolves it
    [InlineData("busybox ping -W 1 10.0.0.1")]                             // no count: it would never end
    [InlineData("busybox ping -c 2 -q -W 1 10.0.0.1")]                     // an option it does not know
    [InlineData("busybox ping -c 0 10.0.0.1")]
    [InlineData("busybox ping -c 2 010.0.0.1")]                            // not the address as written
    [InlineData("/usr/bin/ping -M do -c 2 -W 1 10.0.0.1")]                 // iputils with DF
    [InlineData("nsenter -t 4242 -n -- busybox ping -c 1 10.0.0.1")]       // not the process runtime's exec
    [InlineData("ip netns exec ../x busybox ping -c 1 10.0.0.1")]
    [InlineData("busybox ping -c 2 -W 1 10.0.0.1 extra")]
    public void Any_other_ping_is_left_to_busybox(string argv) => Assert.Null(PingCommand.Parse(argv.Split(' ')));

    [Fact]
    public void An_echo_request_carries_the_id_and_sequence_and_a_checksum_that_sums_to_zero()
    {
        var packet = new byte[8 + 56];

        IcmpPing.Request(packet, 0x1234, 7);

        Assert.Equal([8, 0], packet[..2]);
        Assert.Equal([0x12, 0x34, 0, 7], packet[4..8]);
        Assert.Equal(0, IcmpPing.Checksum(packet)); // a packet with its checksum in sums to 0xFFFF, complemented 0
        Assert.Equal(0xF7FF, IcmpPing.Checksum([8, 0, 0, 0])); // RFC 1071 by hand: ~0x0800
    }

    [Fact]
    public void Only_an_echo_reply_with_our_id_counts_and_its_ttl_and_sender_come_from_the_ip_header()
    {
        byte[] Reply(byte type, ushort id, ushort seq)
        {
            var datagram = new byte[20 + 8 + 56];
            datagram[0] = 0x45;
            datagram[8] = 63;
            new byte[] { 10, 72, 0, 2 }.CopyTo(datagram, 12);
            IcmpPing.Request(datagram.AsSpan(20), id, seq);
            datagram[20] = type;
            return datagram;
        }

        Assert.Equal((64, IPAddress.Parse("10.72.0.2"), 63, (ushort)3), IcmpPing.Answer(Reply(0, 0xBEEF, 3), 0xBEEF));
        Assert.Null(IcmpPing.Answer(Reply(0, 0xBEEF, 3), 0xBEEE));  // another ping's
        Assert.Null(IcmpPing.Answer(Reply(8, 0xBEEF, 3), 0xBEEF));  // a request (pinging ourselves sees its own)
        Assert.Null(IcmpPing.Answer(Reply(0, 0xBEEF, 3)[..24], 0xBEEF));
    }

    [Theory]
    [InlineData(87, "0.087")]
    [InlineData(1_234_567, "1234.567")]
    [InlineData(0, "0.000")]
    public void Times_are_printed_as_busybox_prints_them(long micros, string text) => Assert.Equal(text, IcmpPing.Millis(micros));
}
