using System.Globalization;

using static LabRunner.Execution.IpJson;

namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// The reverse-path filter (net.ipv4.conf.{all,IFACE}.rp_filter, the larger of the two; 1 strict, 2 loose) dropped the
/// packets where they came in, because the route back to their source does not leave by that interface (or there is
/// none). Found by the namespace's IPReversePathFilter counter (/proc/net/netstat) growing while the probe was sent
/// again; the interface is the one where <c>ip route get TO from SOURCE iif IFACE</c> is refused.
/// </summary>
internal sealed class RpFilter : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("rp-filter",
        "the reverse-path filter dropped the packets where they came in: rp_filter is on for that interface and the route back to their source leaves by another one, or there is none (IPReversePathFilter grew)",
        "a route back to the source through that interface, or loose mode: sysctl -w net.ipv4.conf.all.rp_filter=2 and net.ipv4.conf.IFACE.rp_filter=2");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        if (cx.Layer2Reached != true || cx.Source is not { } source) return false;
        var counters = await cx.CountersAsync(ct);
        foreach (var place in counters.Places)
        {
            if (counters.Before.ReversePathFilter.GetValueOrDefault(place) is not { } was ||
                counters.After.ReversePathFilter.GetValueOrDefault(place) is not { } now || now <= was) continue;
            var all = await cx.SysctlAsync(place, "net.ipv4.conf.all.rp_filter", ct) ?? "?";
            var (back, error) = await cx.RouteAsync(place, source, ct);
            var backText = back is null ? $"does not exist ({error})" : $"leaves by {back.Dev}";
            var named = false;
            foreach (var link in await cx.LinksAsync(place, ct))
            {
                if (Str(link, "ifname") is not { } name || name == "lo" || name == back?.Dev) continue;
                var own = await cx.SysctlAsync(place, $"net.ipv4.conf.{name}.rp_filter", ct);
                if (Math.Max(Level(all), Level(own)) == 0) continue;
                var (_, refused) = await cx.RouteAsync(place, cx.To, ct, "from", source, "iif", name);
                // The kernel's own reverse-path check refuses it: "Invalid argument" (or EXDEV, "Invalid cross-device link").
                if (!refused.Contains("Invalid argument", StringComparison.Ordinal) && !refused.Contains("cross-device", StringComparison.Ordinal)) continue;
                named = true;
                cx.Add(Class.Id, $"in {place}, the reverse-path filter dropped {Count(now - was)} (IPReversePathFilter {was} → {now}): packets from {source} " +
                                 $"come in on {name}, but the route back to {source} {backText} (net.ipv4.conf.all.rp_filter = {all}, net.ipv4.conf.{name}.rp_filter = {own ?? "?"})");
                cx.Add(Class.Id, $"try: a route back to {source} through {name} in {place}, or loose reverse-path filtering there: " +
                                 $"sysctl -w net.ipv4.conf.all.rp_filter=2 and net.ipv4.conf.{name}.rp_filter=2 (the larger of the two counts)");
            }
            if (!named)
            {
                cx.Add(Class.Id, $"in {place}, the reverse-path filter dropped {Count(now - was)} (IPReversePathFilter {was} → {now}): the route back to {source} {backText} " +
                                 $"(net.ipv4.conf.all.rp_filter = {all})");
                cx.Add(Class.Id, $"try: a route back to {source} in {place} through the link the packets come in on, or sysctl -w net.ipv4.conf.all.rp_filter=2 there (loose)");
            }
        }
        return false;
    }

    private static int Level(string? value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture) + (n == 1 ? " packet" : " packets");
}
