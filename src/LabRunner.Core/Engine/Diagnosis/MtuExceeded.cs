using System.Globalization;
using System.Text.RegularExpressions;

using static LabRunner.Execution.IpJson;

namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// A packet that may not be fragmented (DF: <c>ping -M do</c>, <c>dont-fragment: true</c>) is larger than the MTU of a
/// link on its path: SIZE + 28 (IPv4 and ICMP headers) is compared with the sender's route (its link, and a path MTU
/// it learned from an ICMP "fragmentation needed"), and the links of the lab's places (bridges, veths, vxlans): a bridge
/// drops a frame larger than the port it leaves by without a word, a router answers "Frag needed". What the probe's
/// ping said is evidence too.
/// </summary>
internal sealed partial class MtuExceeded : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("mtu-exceeded",
        "a DF packet (ping with dont-fragment) is larger than the MTU of a link on the path: the sender's link or learned path MTU, a bridge, a veth, a vxlan",
        "lower the MTU inside the path to the smallest one (e.g. 1450 inside a VXLAN overlay: 50 bytes of headers), or send smaller packets");

    public DiagnosisClassInfo Info => Class;

    /// <summary>IPv4 header (20) and ICMP echo header (8) around ping's data bytes.</summary>
    public const int Headers = 28;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        if (!cx.Probe.DontFragment || cx.Route is not { } route) return false;
        var size = cx.Probe.Size ?? 56;
        var packet = size + Headers;
        var small = new List<(string Text, int Mtu)>();
        foreach (var place in cx.NearPlaces)
            foreach (var link in await cx.LinksAsync(place, ct))
            {
                if (Str(link, "ifname") is not { } name || name == "lo" || Str(link, "operstate") is "DOWN") continue;
                if (!link.TryGetProperty("mtu", out var m) || !m.TryGetInt32(out var mtu) || mtu >= packet) continue;
                var own = place == cx.From && name == route.Dev ? ", the link the sender's route leaves by" : "";
                small.Add(($"{name} in {place.Name} has MTU {mtu}{own}", mtu));
            }
        if (route.Mtu is { } learned && learned < packet)
            small.Add(($"{cx.From.Name} has learned a path MTU of {learned} to {cx.To} (an ICMP \"fragmentation needed\" came back)", learned));
        var said = (await cx.CountersAsync(ct)).Resent is { } resent ? Evidence(resent.Stdout + "\n" + resent.Stderr) : null;
        if (small.Count == 0 && said is null) return false;

        cx.Add(Class.Id, $"a DF packet of {packet} bytes ({size} data + {Headers} of IPv4 and ICMP headers) is larger than " +
                         "a link's MTU on the path" + (small.Count == 0 ? "" : ": " + string.Join("; ", small.Select(s => s.Text))) +
                         (said is null ? "" : $" (ping says: {said})"));
        var smallest = small.Count == 0 ? ParseMtu(said!) ?? 1450 : small.Min(s => s.Mtu);
        cx.Add(Class.Id, $"try: lower the MTU inside the path to {smallest} (ip link set dev {route.Dev} mtu {smallest} in {cx.From}, and the other ends; " +
                         $"inside a VXLAN overlay 1450, as its headers take 50 bytes of the underlay's 1500), or send at most {smallest - Headers} data bytes");
        return false;
    }

    /// <summary>What ping printed about the size: "Frag needed and DF set (mtu = 1400)", "message too long, mtu=1400".</summary>
    private static string? Evidence(string output) => PingMtu().Match(output) is { Success: true } m ? m.Value.Trim() : null;

    private static int? ParseMtu(string said) =>
        Digits().Match(said) is { Success: true } m ? int.Parse(m.Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"(From \S+ icmp_seq=\d+ )?(Frag needed and DF set \(mtu = \d+\)|local error: message too long, mtu=\d+)")]
    private static partial Regex PingMtu();

    [GeneratedRegex(@"\d+(?=\)?$)")]
    private static partial Regex Digits();
}
