namespace LabRunner.Engine.Diagnosis;

/// <summary>The gateway's namespace does not forward IPv4 (net.ipv4.ip_forward = 0): it drops what it should route.</summary>
internal sealed class GatewayNotForwarding : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("gateway-not-forwarding",
        "the gateway's namespace does not forward IPv4 (net.ipv4.ip_forward = 0)",
        "sysctl -w net.ipv4.ip_forward=1 there");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        if (cx.Layer2Reached != true || cx.Route!.Gateway is not { } gateway) return false;
        if (await cx.OwnerOfAsync(gateway, ct) is not { } place) return false;
        if (await cx.SysctlAsync(place, "net.ipv4.ip_forward", ct) != "0") return false;
        cx.Add(Class.Id, $"the gateway {gateway} is {place}, which does not forward IPv4 (net.ipv4.ip_forward = 0)");
        cx.Add(Class.Id, $"try: sysctl -w net.ipv4.ip_forward=1 in {place}");
        return false;
    }
}
