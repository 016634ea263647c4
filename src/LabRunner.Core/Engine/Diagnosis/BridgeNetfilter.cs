using LabRunner.Model;

using static LabRunner.Execution.IpJson;

namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// A bridge in a lab namespace whose IPv4 frames go through iptables (br_netfilter, bridge-nf-call-iptables = 1) into a
/// filter FORWARD chain whose policy is DROP: the article's section 3, and every Docker host.
/// </summary>
internal sealed class BridgeNetfilter : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("bridge-netfilter",
        "a bridge's IPv4 frames go through iptables (net.bridge.bridge-nf-call-iptables = 1) into a filter FORWARD chain whose policy is DROP",
        "sysctl -w net.bridge.bridge-nf-call-iptables=0 (the article's fix), or an ACCEPT rule for the traffic in FORWARD");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        if (cx.Layer2Reached != true) return false;
        // IPv6 frames go through ip6tables, switched by a sysctl of their own.
        var (tables, family) = DiagnosisContext.IsIpv6(cx.To) ? ("ip6tables", "IPv6") : ("iptables", "IPv4");
        foreach (var place in cx.LabPlaces.Where(p => p.Kind != PlaceKind.Container))
        {
            var target = cx.Target(place);
            var bridges = await cx.JsonAsync(target.Ip("-j", "link", "show", "type", "bridge"), ct);
            if (bridges is not { } b || b.GetArrayLength() == 0) continue;
            if ((await cx.RunAsync(target.Exec("sysctl", "-n", $"net.bridge.bridge-nf-call-{tables}"), ct))?.Trim() != "1") continue;
            var forward = await cx.RunAsync(target.Exec(tables, "-t", "filter", "-S", "FORWARD"), ct);
            if (forward is null || Kinds.CommonFields.ParsePolicy(forward, "FORWARD") != "DROP") continue;
            var accepts = forward.Split('\n').Count(line => line.StartsWith("-A FORWARD", StringComparison.Ordinal) && line.Contains("-j ACCEPT", StringComparison.Ordinal));
            var names = string.Join(", ", b.EnumerateArray().Select(x => Str(x, "ifname")));
            cx.Add(Class.Id, $"in {place}, bridged {family} frames of {names} go through {tables} (net.bridge.bridge-nf-call-{tables} = 1) " +
                             $"and the filter FORWARD policy is DROP{(accepts > 0 ? $" ({accepts} ACCEPT rule(s) do not cover this traffic)" : "")}: " +
                             "the bridge drops the ping between its ports (br_netfilter, as on a Docker host)");
            cx.Add(Class.Id, $"try: sysctl -w net.bridge.bridge-nf-call-{tables}=0 in {place} (the article's fix), or an ACCEPT rule for this traffic in its FORWARD chain");
        }
        return false;
    }
}
