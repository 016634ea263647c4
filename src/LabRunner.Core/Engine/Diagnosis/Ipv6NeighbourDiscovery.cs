namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// IPv6's ARP: whether neighbour discovery (ICMPv6 neighbour solicitation and advertisement) resolved an IPv6 next hop,
/// and whose MAC it is. No answer means layer 2 does not reach it, or the next hop does not have that address; a
/// solicitation goes to the solicited-node multicast address, so a bridge that drops multicast stops it too.
/// </summary>
internal sealed class Ipv6NeighbourDiscovery : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("ipv6-nd",
        "IPv6 neighbour discovery for the next hop got no answer: the neighbour entry is FAILED or INCOMPLETE, layer 2 does not reach it",
        "check that the next hop is up, has that IPv6 address (not still tentative), and that both ends are on the same link or bridge");

    public DiagnosisClassInfo Info => Class;

    public Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct) =>
        DiagnosisContext.IsIpv6(cx.Route!.Gateway ?? cx.To) ? ArpUnanswered.ResolvedAsync(cx, Class.Id, "neighbour discovery", ct) : Task.FromResult(false);
}
