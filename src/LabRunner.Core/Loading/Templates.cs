using System.Text.RegularExpressions;

namespace LabRunner.Loading;

/// <summary>
/// ${container.pid} and ${uplink.ip}: values only known at run time (PIDs, the uplink address with --host),
/// written symbolically in a scenario and substituted by the engine.
/// </summary>
public static partial class Templates
{
    public const string UplinkIp = "uplink.ip";

    public static IEnumerable<string> References(string text) =>
        Pattern().Matches(text).Select(m => m.Groups[1].Value);

    public static string Expand(string text, Func<string, string> resolve) =>
        Pattern().Replace(text, m => resolve(m.Groups[1].Value));

    /// <summary>What a <c>cni-add</c>'s result gives its place's interface: <c>${PLACE.IFNAME.ip}</c> and the others.</summary>
    public static readonly IReadOnlyList<string> CniFields = ["ip", "cidr", "gateway", "mac", "host-veth"];

    /// <summary>Null when every ${...} in <paramref name="text"/> names something known, else why not.</summary>
    public static string? Check(string text, IReadOnlySet<string> containers, IReadOnlySet<string>? netns = null)
    {
        foreach (var reference in References(text))
        {
            if (reference == UplinkIp) continue;
            if (reference.EndsWith(".pid", StringComparison.Ordinal) && containers.Contains(reference[..^4])) continue;
            var places = containers.Concat(netns ?? new HashSet<string>()).ToList();
            if (CniAttachment(reference, places) is not null) continue;
            // A place's value other than its PID: say what a cni-add gives.
            var cni = !reference.EndsWith(".pid", StringComparison.Ordinal) && places.Any(p => reference.StartsWith(p + ".", StringComparison.Ordinal));
            return $"unknown placeholder '${{{reference}}}'; known: ${{uplink.ip}}" +
                   string.Concat(containers.Order().Select(c => $", ${{{c}.pid}}")) +
                   (cni ? ", and after a cni-add: ${PLACE.IFNAME.ip} (also .cidr, .gateway, .mac, .host-veth)" : "");
        }
        return null;
    }

    /// <summary>
    /// For <c>${PLACE.IFNAME.FIELD}</c> (FIELD one of <see cref="CniFields"/>, PLACE one of <paramref name="places"/>),
    /// the attachment it names as "PLACE.IFNAME"; otherwise null. Names may hold dots: the place is matched whole.
    /// </summary>
    public static string? CniAttachment(string reference, IEnumerable<string> places)
    {
        var dot = reference.LastIndexOf('.');
        if (dot <= 0 || !CniFields.Contains(reference[(dot + 1)..])) return null;
        var attachment = reference[..dot];
        return places.Any(p => attachment.Length > p.Length + 1 && attachment.StartsWith(p + ".", StringComparison.Ordinal)) ? attachment : null;
    }

    [GeneratedRegex(@"\$\{([A-Za-z0-9_.-]+)\}")]
    private static partial Regex Pattern();
}
