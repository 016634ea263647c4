using LabRunner.Loading;

namespace LabRunner.Tests.Unit;

public sealed class NamesSpecs
{
    [Theory]
    [InlineData("veth-1")]
    [InlineData("br-0")]
    [InlineData("ens3")]
    [InlineData("eth0.100")]
    [InlineData("veth_a")]
    [InlineData("0veth")]
    [InlineData("veth-0123456789")] // 15 bytes: IFNAMSIZ - 1
    public void A_valid_interface_name_passes(string name) => Assert.Null(Names.CheckInterface(name));

    [Theory]
    [InlineData("", "cannot be empty")]
    [InlineData("veth-0123456789a", "is 16 bytes; Linux allows at most 15")]
    [InlineData("vethéééééé", "is 16 bytes")] // 10 characters, 16 bytes
    [InlineData("-veth", "must start with a letter or digit")]
    [InlineData(".veth", "must start with a letter or digit")]
    [InlineData("veth 1", "may only hold")]
    [InlineData("veth/1", "may only hold")]
    [InlineData("veth:1", "may only hold")]
    [InlineData("véth", "may only hold")]
    public void An_invalid_interface_name_is_refused_with_the_reason(string name, string reason) =>
        Assert.Contains(reason, Names.CheckInterface(name));

    [Theory]
    [InlineData("n1")]
    [InlineData("busybox-1")]
    [InlineData("a.b_c-d")]
    [InlineData("0pod")]
    public void A_valid_netns_or_container_name_passes(string name) => Assert.Null(Names.CheckObject(name, "netns"));

    [Theory]
    [InlineData("", "a netns name cannot be empty")]
    [InlineData("a/b", "contains '/' or '..'")]
    [InlineData("..", "contains '/' or '..'")]
    [InlineData("x..y", "contains '/' or '..'")]
    [InlineData("n1;reboot", "may only hold")]
    [InlineData("$(id)", "may only hold")]
    [InlineData("-n", "must start with a letter or digit")]
    [InlineData("host", "'host' is reserved")]
    public void An_invalid_netns_name_is_refused_with_the_reason(string name, string reason) =>
        Assert.Contains(reason, Names.CheckObject(name, "netns"));

    [Fact]
    public void A_netns_name_may_be_48_characters_but_not_49()
    {
        Assert.Null(Names.CheckObject(new string('n', 48), "netns"));
        Assert.Contains("longer than 48 characters", Names.CheckObject(new string('n', 49), "netns"));
    }

    [Theory]
    [InlineData("172.16.100.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("10.0.0.0", true)]
    [InlineData("256.0.0.1", false)]
    [InlineData("10.0.0", false)]
    [InlineData("10.0.0.1.", false)]
    [InlineData("010.0.0.1", false)] // octal to IPAddress.TryParse, decimal to a person
    [InlineData("0x0a.0.0.1", false)]
    [InlineData("10.0.0.01", false)]
    [InlineData(" 10.0.0.1", false)]
    [InlineData("10.0.0.1/24", false)]
    [InlineData("::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("", false)]
    public void IPv4_is_four_decimal_numbers_from_0_to_255(string text, bool valid) => Assert.Equal(valid, Names.IsIPv4(text));

    [Theory]
    [InlineData("172.16.100.1/24")]
    [InlineData("0.0.0.0/0")]
    [InlineData("10.0.0.1/32")]
    [InlineData("10.0.0.1/8")]
    public void A_valid_CIDR_passes(string cidr) => Assert.Null(Names.CheckCidr(cidr));

    [Theory]
    [InlineData("10.0.0.1", "'10.0.0.1' needs a prefix length, e.g. 10.0.0.1/24")]
    [InlineData("10.0.0.300/24", "'10.0.0.300' is not an IPv4 address")]
    [InlineData("10.0.0.1/33", "prefix length in '10.0.0.1/33' must be a number from 0 to 32")]
    [InlineData("10.0.0.1/+8", "prefix length in '10.0.0.1/+8' must be a number from 0 to 32")]
    [InlineData("10.0.0.1/-0", "prefix length in '10.0.0.1/-0' must be a number from 0 to 32")]
    [InlineData("10.0.0.1/ 8", "prefix length in '10.0.0.1/ 8' must be a number from 0 to 32")]
    [InlineData("10.0.0.1/08", "prefix length in '10.0.0.1/08' must be a number from 0 to 32")]
    [InlineData("10.0.0.1/24/8", "prefix length in '10.0.0.1/24/8' must be a number from 0 to 32")]
    public void An_invalid_CIDR_is_refused_with_the_reason(string cidr, string reason) => Assert.Equal(reason, Names.CheckCidr(cidr));

    [Theory]
    [InlineData("net.ipv4.ip_forward", true)]
    [InlineData("net.bridge.bridge-nf-call-iptables", true)]
    [InlineData("net.ipv4.conf.veth-1.forwarding", true)]
    [InlineData("ip_forward", false)]
    [InlineData("net/ipv4/ip_forward", false)]
    [InlineData("net..ipv4", false)]
    [InlineData("net.ipv4.", false)]
    [InlineData(".net.ipv4", false)]
    [InlineData("-w.x", false)]
    [InlineData("Net.IPv4.ip_forward", false)]
    [InlineData("net.ipv4.ip_forward=1", false)]
    public void A_sysctl_key_is_dot_separated_words(string key, bool valid) => Assert.Equal(valid, Names.CheckSysctlKey(key) is null);

    [Theory]
    [InlineData("FORWARD", true)]
    [InlineData("DOCKER-USER", true)]
    [InlineData("my_chain", true)]
    [InlineData("-P", false)]
    [InlineData("1FORWARD", false)]
    [InlineData("FOR WARD", false)]
    [InlineData("", false)]
    public void A_chain_name_starts_with_a_letter(string chain, bool valid) => Assert.Equal(valid, Names.CheckChain(chain) is null);
}
