using System.Globalization;
using LabRunner.Execution;
using LabRunner.Model;

namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// Nobody listens on the port a connection (or a GET) was refused at: <c>ss -Hltn</c> (<c>-Hlun</c> for UDP) in the
/// destination's namespace lists no socket on that port for that address. A DNAT rule of that namespace (nat
/// PREROUTING, e.g. a published port) is followed to the address and port it rewrites to.
/// </summary>
internal sealed class NotListening : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("not-listening",
        "nobody listens on the port in the destination's namespace (`ss -Hltn`/`-Hlun`), or only on another address such as 127.0.0.1; a DNAT rule there is followed",
        "start the server on that port (serve: …), or listen on all addresses; or connect to a port that is served");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        if (cx.Probe.Protocol is not ("tcp" or "udp") || cx.Probe.Port is not { } port) return false;
        var address = cx.To;
        // A loopback address is the sender's own (every namespace has 127.0.0.1 on its lo).
        var owner = address.StartsWith("127.", StringComparison.Ordinal) ? cx.From : await cx.OwnerOfAsync(address, ct);
        if (owner is null) return false;
        var via = "";
        if (await DnatAsync(cx, owner, address, port, ct) is { } dnat && await cx.OwnerOfAsync(dnat.Address, ct) is { } inner)
        {
            via = $" (DNAT in {owner}: {address}:{port} → {dnat.Address}:{dnat.Port})";
            (owner, address, port) = (inner, dnat.Address, dnat.Port);
        }
        var proto = cx.Probe.Protocol.ToUpperInvariant();
        if (await cx.RunAsync(cx.Target(owner).Exec("ss", cx.Probe.Protocol == "tcp" ? "-Hltn" : "-Hlun"), ct) is not { } ss) return false;
        var sockets = Listening(ss);
        var onPort = sockets.Where(s => s.Port == port).ToList();
        if (onPort.Any(s => s.Address is "*" or "0.0.0.0" or "[::]" or "::" || s.Address == address)) return false;
        if (onPort.Count > 0)
            cx.Add(Class.Id, $"in {owner}, {proto} port {port} is listened on only at {string.Join(", ", onPort.Select(s => s.Address))}, not at {address}{via}");
        else
        {
            var ports = sockets.Select(s => s.Port).Distinct().Order().Select(p => p.ToString(CultureInfo.InvariantCulture)).ToList();
            cx.Add(Class.Id, $"nobody listens on {proto} port {port} in {owner}{via} " +
                             $"(ss -l{(proto == "TCP" ? "t" : "u")}n: {(ports.Count == 0 ? "no listening socket" : "listening on " + string.Join(", ", ports))})");
        }
        cx.Add(Class.Id, $"try: start a server on {proto} port {port} in {owner} (e.g. serve: {{ in: {owner.Name}, app: {(proto == "TCP" ? "http" : "echo")}, port: {port} }}) " +
                         "listening on all addresses, or connect to a port that is served");
        return false;
    }

    /// <summary>The local address and port of each socket <c>ss -H -l</c> lists ("LISTEN 0 4096 127.0.0.1:8080 0.0.0.0:*").</summary>
    internal static IReadOnlyList<(string Address, int Port)> Listening(string ss)
    {
        var list = new List<(string, int)>();
        foreach (var line in ss.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 4) continue;
            var local = fields[3];
            var colon = local.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(local[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)) continue;
            var address = local[..colon];
            var percent = address.IndexOf('%', StringComparison.Ordinal); // 10.0.0.1%eth0: bound to a device too
            list.Add((percent > 0 ? address[..percent] : address, port));
        }
        return list;
    }

    /// <summary>A DNAT of nat PREROUTING (or OUTPUT, for the place itself) in <paramref name="place"/> that this traffic matches.</summary>
    private static async Task<(string Address, int Port)?> DnatAsync(DiagnosisContext cx, Place place, string address, int port, CancellationToken ct)
    {
        var chain = place == cx.From ? "OUTPUT" : "PREROUTING";
        var nat = IptablesSave.Parse(await cx.RunAsync(cx.Target(place).Exec("iptables-save", "-t", "nat"), ct) ?? "");
        foreach (var rule in nat.Table("nat")?.Rules ?? [])
        {
            if (rule.Chain != chain || rule.Target != "DNAT" || rule.Option("--to-destination") is not { } to) continue;
            if (rule.Option("-p") is { } p && p != cx.Probe.Protocol) continue;
            if (rule.Option("--dport") is { } d && d != port.ToString(CultureInfo.InvariantCulture)) continue;
            if (rule.Option("-d") is { } dst && DiagnosisContext.Contains(dst, address) == rule.Negated("-d")) continue;
            var colon = to.LastIndexOf(':');
            return colon > 0 && int.TryParse(to[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var toPort)
                ? (to[..colon], toPort) : (to, port);
        }
        return null;
    }
}
