using LabRunner.Execution;
using LabRunner.Model;

namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// Outbound traffic whose reply has no way back: the destination's namespace has no route to the sender's address, and
/// no MASQUERADE or SNAT rule of the forwarding host (the gateway's namespace, nat POSTROUTING) rewrites the sender's
/// packets to an address it can answer. The curriculum's masquerade lab, step 3.
/// </summary>
internal sealed class NoReturnRoute : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("no-return-route",
        "the destination has no route back to the sender's address, and no MASQUERADE or SNAT on the forwarding host (nat POSTROUTING) rewrites it",
        "masquerade: { source: SUBNET, out: LINK } on the forwarding host, or a route back to the sender's subnet in the destination");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        if (cx.Layer2Reached != true || cx.Route!.Local || cx.Source is not { } source) return false;
        if (await cx.OwnerOfAsync(cx.To, ct) is not { } target || target == cx.From) return false;
        var (back, error) = await cx.RouteAsync(target, source, ct);
        if (back is not null || !error.Contains("unreachable", StringComparison.OrdinalIgnoreCase)) return false;

        var gateway = cx.Route!.Gateway;
        var host = gateway is null ? null : await cx.OwnerOfAsync(gateway, ct);
        var subnet = await SubnetAsync(cx, source, ct);
        if (host is null)
        {
            cx.Add(Class.Id, $"the reply cannot come back: {target} has no route to {source} ({error})");
            cx.Add(Class.Id, $"try: a route to {subnet} in {target}");
            return false;
        }
        var (outward, _) = await cx.RouteAsync(host, cx.To, ct);
        var nat = IptablesSave.Parse(await cx.RunAsync(cx.Target(host).Exec("iptables-save", "-t", "nat"), ct) ?? "");
        if (nat.Table("nat")?.Rules.Any(r => Rewrites(r, source, outward?.Dev)) == true) return false;

        var dev = outward?.Dev ?? "LINK";
        cx.Add(Class.Id, $"the reply cannot come back: {target} has no route to {source} ({error}), and no MASQUERADE or SNAT in " +
                         $"{host}'s nat POSTROUTING rewrites {source} leaving by {dev}");
        cx.Add(Class.Id, $"try: masquerade: {{ source: {subnet}, out: {dev} }} in {host} (iptables -t nat -A POSTROUTING -s {subnet} -o {dev} -j MASQUERADE), " +
                         $"or a route back in {target}: ip route add {subnet}" + (outward?.Source is { } via ? $" via {via}" : ""));
        return false;
    }

    /// <summary>Whether a nat POSTROUTING rule MASQUERADEs or SNATs packets from <paramref name="source"/> leaving by <paramref name="dev"/>.</summary>
    internal static bool Rewrites(SavedRule rule, string source, string? dev)
    {
        if (rule.Chain != "POSTROUTING" || rule.Target is not ("MASQUERADE" or "SNAT")) return false;
        if (rule.Option("-s") is { } s && DiagnosisContext.Contains(s, source) == rule.Negated("-s")) return false;
        if (rule.Option("-o") is { } o && dev is not null && Matches(o, dev) == rule.Negated("-o")) return false;
        return true;
    }

    /// <summary>An interface name as iptables matches it: "veth+" matches every name that starts with "veth".</summary>
    private static bool Matches(string pattern, string dev) =>
        pattern.EndsWith('+') ? dev.StartsWith(pattern[..^1], StringComparison.Ordinal) : pattern == dev;

    /// <summary>The sender's subnet (its address with the prefix it has on the sender), or the address alone.</summary>
    private static async Task<string> SubnetAsync(DiagnosisContext cx, string source, CancellationToken ct)
    {
        foreach (var (_, address, prefix) in await cx.AddressesAsync(cx.From, ct))
            if (address == source) return DiagnosisContext.Network(address, prefix);
        return source + "/32";
    }
}
