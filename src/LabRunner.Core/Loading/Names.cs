using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace LabRunner.Loading;

/// <summary>
/// What a name or address may look like. Names end up in argv, in /var/run/netns and in /proc/sys paths,
/// so anything that could escape a directory or read as an option is refused here, before any command runs.
/// </summary>
public static partial class Names
{
    public const int MaxInterfaceBytes = 15; // IFNAMSIZ - 1
    public const int MaxObjectName = 48;

    /// <summary>Null when <paramref name="name"/> is a valid interface name, else why not.</summary>
    public static string? CheckInterface(string name)
    {
        if (name.Length == 0) return "an interface name cannot be empty";
        if (Encoding.UTF8.GetByteCount(name) > MaxInterfaceBytes)
            return $"interface name '{name}' is {Encoding.UTF8.GetByteCount(name)} bytes; Linux allows at most {MaxInterfaceBytes}";
        if (!InterfacePattern().IsMatch(name))
            return $"interface name '{name}' may only hold letters, digits, '-', '_' and '.', and must start with a letter or digit";
        return null;
    }

    /// <summary>Null when <paramref name="name"/> is a valid netns or container name, else why not.</summary>
    public static string? CheckObject(string name, string what)
    {
        if (name.Length == 0) return $"a {what} name cannot be empty";
        if (name.Length > MaxObjectName) return $"{what} name '{name}' is longer than {MaxObjectName} characters";
        if (name.Contains('/') || name.Contains(".."))
            return $"{what} name '{name}' contains '/' or '..', which would escape /var/run/netns";
        if (!ObjectPattern().IsMatch(name))
            return $"{what} name '{name}' may only hold letters, digits, '-', '_' and '.', and must start with a letter or digit";
        if (name == "host") return $"'host' is reserved for the lab's host; choose another {what} name";
        if (name == Model.Place.WanName) return $"'wan' is reserved for the far side of the sandbox's uplink; choose another {what} name";
        return null;
    }

    public static string? CheckSysctlKey(string key) =>
        SysctlPattern().IsMatch(key) && !key.Contains("..")
            ? null
            : $"sysctl key '{key}' must look like net.ipv4.ip_forward (dot-separated words, no '/' or '..')";

    /// <summary>
    /// Dotted decimal only, as iproute2 reads it (inet_pton): four numbers 0-255 without leading zeros.
    /// IPAddress.TryParse alone would also take 0x0a.0.0.1 and read 010.0.0.1 as octal 8.0.0.1.
    /// </summary>
    public static bool IsIPv4(string text) =>
        IPv4Pattern().IsMatch(text) && IPAddress.TryParse(text, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork;

    /// <summary>Null when <paramref name="text"/> is an IPv4 CIDR such as 172.16.100.1/24.</summary>
    public static string? CheckCidr(string text)
    {
        var slash = text.IndexOf('/');
        if (slash < 0) return $"'{text}' needs a prefix length, e.g. {text}/24";
        if (!IsIPv4(text[..slash])) return $"'{text[..slash]}' is not an IPv4 address";
        var prefixText = text[(slash + 1)..];
        if (!PrefixPattern().IsMatch(prefixText) || !int.TryParse(prefixText, out var prefix) || prefix > 32)
            return $"prefix length in '{text}' must be a number from 0 to 32";
        return null;
    }

    /// <summary>
    /// IPv6 as iproute2 reads it (inet_pton): hex groups and colons, an IPv4 tail allowed (::ffff:10.0.0.1). No brackets,
    /// no port and no zone (%eth0), which IPAddress.TryParse alone would take.
    /// </summary>
    public static bool IsIPv6(string text) => CheckIPv6(text) is null;

    /// <summary>Null when <paramref name="text"/> is an IPv6 address such as fd00:100::101, else why not.</summary>
    public static string? CheckIPv6(string text)
    {
        if (text.Contains('%')) return $"'{text}' has a zone ({text[text.IndexOf('%')..]}); give the link with 'dev' instead";
        return IPv6Pattern().IsMatch(text) && IPAddress.TryParse(text, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6
            ? null
            : $"'{text}' is not an IPv6 address";
    }

    /// <summary>An address of either family: one with a ':' is read as IPv6, any other as IPv4.</summary>
    public static bool IsIp(string text) => text.Contains(':') ? IsIPv6(text) : IsIPv4(text);

    /// <summary>
    /// Null when <paramref name="text"/> is a CIDR of either family: an IPv4 one as <see cref="CheckCidr"/> says (its
    /// messages unchanged), an IPv6 one (it has a ':') such as fd00:100::1/64, prefix 0-128.
    /// </summary>
    public static string? CheckIpCidr(string text)
    {
        if (!text.Contains(':')) return CheckCidr(text);
        var slash = text.IndexOf('/');
        if (slash < 0) return $"'{text}' needs a prefix length, e.g. {text}/64";
        if (CheckIPv6(text[..slash]) is { } why) return why;
        var prefixText = text[(slash + 1)..];
        if (!Prefix6Pattern().IsMatch(prefixText) || !int.TryParse(prefixText, out var prefix) || prefix > 128)
            return $"prefix length in '{text}' must be a number from 0 to 128";
        return null;
    }

    /// <summary>
    /// Null when the IPv6 CIDR <paramref name="text"/> (valid by <see cref="CheckIpCidr"/>) names a network, else why
    /// not: a route's destination is a network, and ip would quietly drop the host bits (fd00:300::1/64 becomes
    /// fd00:300::/64), so a route expectation written that way could never match.
    /// </summary>
    public static string? CheckIPv6Network(string text)
    {
        var slash = text.IndexOf('/');
        var address = IPAddress.Parse(text[..slash]);
        var network = new IPNetwork(address, int.Parse(text[(slash + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        return network.BaseAddress.Equals(address) ? null : $"'{text}' has host bits set: the network is {network}";
    }

    /// <summary>
    /// An IPv6 address (or CIDR) in the one form ip prints (RFC 5952: lower case, the longest run of zeros as ::), so
    /// that what a lab wrote compares as text with what the kernel shows; anything else as it is.
    /// </summary>
    public static string Canonical(string text)
    {
        if (!text.Contains(':')) return text;
        var slash = text.IndexOf('/');
        var address = slash < 0 ? text : text[..slash];
        if (!IsIPv6(address)) return text;
        return IPAddress.Parse(address).ToString() + (slash < 0 ? "" : text[slash..]);
    }

    /// <summary>Whether a valid address or CIDR is IPv6 (it has a ':').</summary>
    public static bool IsV6(string text) => text.Contains(':');

    public static string? CheckChain(string chain) =>
        ChainPattern().IsMatch(chain) ? null : $"chain name '{chain}' must be letters, digits, '-' or '_' (e.g. FORWARD)";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex InterfacePattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex ObjectPattern();

    // The first character may not be '-': the key is an argument of sysctl and must not read as an option.
    [GeneratedRegex("^[a-z0-9_][a-z0-9_-]*(\\.[a-z0-9_-]+)+$")]
    private static partial Regex SysctlPattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,28}$")]
    private static partial Regex ChainPattern();

    [GeneratedRegex("^(0|[1-9][0-9]{0,2})(\\.(0|[1-9][0-9]{0,2})){3}$")]
    private static partial Regex IPv4Pattern();

    [GeneratedRegex("^(0|[1-9][0-9]?)$")]
    private static partial Regex PrefixPattern();

    // Hex digits, colons and (for an IPv4 tail) dots, with at least one colon: no brackets, port, zone or spaces.
    [GeneratedRegex("^[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*$")]
    private static partial Regex IPv6Pattern();

    [GeneratedRegex("^(0|[1-9][0-9]{0,2})$")]
    private static partial Regex Prefix6Pattern();
}
