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
}
