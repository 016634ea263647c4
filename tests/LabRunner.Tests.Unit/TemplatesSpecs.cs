using LabRunner.Loading;

namespace LabRunner.Tests.Unit;

public sealed class TemplatesSpecs
{
    private static readonly HashSet<string> Containers = ["busybox-1", "busybox-2"];

    [Theory]
    [InlineData("no placeholder", new string[0])]
    [InlineData("${uplink.ip}", new[] { "uplink.ip" })]
    [InlineData("/proc/${busybox-1.pid}/ns/net", new[] { "busybox-1.pid" })]
    [InlineData("${a.pid}-${b.pid}", new[] { "a.pid", "b.pid" })]
    [InlineData("$uplink.ip ${} ${ a } ${unclosed", new string[0])]
    public void References_are_the_names_inside_dollar_braces(string text, string[] references) =>
        Assert.Equal(references, Templates.References(text));

    [Theory]
    [InlineData("ping ${uplink.ip}", "ping 192.168.64.6")]
    [InlineData("/proc/${busybox-1.pid}/net", "/proc/2592/net")]
    [InlineData("${busybox-1.pid}:${busybox-1.pid}", "2592:2592")]
    [InlineData("nothing to expand", "nothing to expand")]
    public void Expand_replaces_every_reference(string text, string expanded) =>
        Assert.Equal(expanded, Templates.Expand(text, r => r == "uplink.ip" ? "192.168.64.6" : "2592"));

    [Theory]
    [InlineData("${uplink.ip}")]
    [InlineData("${busybox-1.pid} and ${busybox-2.pid}")]
    [InlineData("plain text")]
    [InlineData("$HOME and $(id) are not placeholders")]
    public void Known_placeholders_pass(string text) => Assert.Null(Templates.Check(text, Containers));

    [Fact]
    public void An_unknown_placeholder_is_refused_with_every_known_one()
    {
        Assert.Equal("unknown placeholder '${busybox-3.pid}'; known: ${uplink.ip}, ${busybox-1.pid}, ${busybox-2.pid}",
            Templates.Check("${busybox-3.pid}", Containers));
    }

    [Theory]
    [InlineData("${uplink.address}")]
    [InlineData("${busybox-1}")]
    [InlineData("${busybox-1.ip}")]
    [InlineData("${UPLINK.IP}")]
    public void Only_uplink_ip_and_a_containers_pid_are_placeholders(string text) =>
        Assert.StartsWith("unknown placeholder", Templates.Check(text, Containers));
}
