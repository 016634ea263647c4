namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// The gateway's namespace does not forward IPv4 (net.ipv4.ip_forward = 0), or, for an IPv6 gateway, IPv6
/// (net.ipv6.conf.all.forwarding = 0, a switch of its own): it drops what it should route.
/// </summary>
internal sealed class GatewayNotForwarding : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("gateway-not-forwarding",
        "the gateway's namespace does not forward IPv4 (net.ipv4.ip_forward = 0), or IPv6 (net.ipv6.conf.all.forwarding = 0) for an IPv6 gateway",
        "sysctl -w net.ipv4.ip_forward=1 there (IPv6: net.ipv6.conf.all.forwarding=1)");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        if (cx.Layer2Reached != true || cx.Route!.Gateway is not { } gateway) return false;
        if (await cx.OwnerOfAsync(gateway, ct) is not { } place) return false;
        var (key, family) = DiagnosisContext.IsIpv6(gateway) ? ("net.ipv6.conf.all.forwarding", "IPv6") : ("net.ipv4.ip_forward", "IPv4");
        if (await cx.SysctlAsync(place, key, ct) != "0") return false;
        cx.Add(Class.Id, $"the gateway {gateway} is {place}, which does not forward {family} ({key} = 0)");
        cx.Add(Class.Id, $"try: sysctl -w {key}=1 in {place}");
        return false;
    }
}
