using LabRunner.Execution;
using LabRunner.Model;

namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// Why traffic that should have got through did not, found the way a trainer would look: the route the sender takes,
/// the state of the link it leaves by, a packet too large for a link, whether ARP resolved the next hop (and whose MAC
/// that is), then what can drop a packet that layer 2 delivers: a bridge whose frames go through iptables into a DROP
/// (the article's section 3), a rule whose counter grew, the reverse-path filter, a router that does not forward, a
/// reply with no way back, a port nobody listens on, an address the lab does not have. Each class
/// (<see cref="IDiagnosisClass"/>, one file each) is called in this order; its findings carry its id, which a lab's
/// <c>why:</c> names. It only reads, and never throws: a diagnosis that cannot look somewhere says so.
/// </summary>
internal sealed class DiagnosisWalk(LabSession session, ICommandRunner runner, Func<IReadOnlyList<Place>> labPlaces)
{
    /// <summary>The classes in the order of the path.</summary>
    internal static readonly IReadOnlyList<IDiagnosisClass> Order =
    [
        new NoRoute(),
        new LinkDown(),
        new MtuExceeded(),
        new ArpUnanswered(),
        new Ipv6NeighbourDiscovery(),
        new NeighbourTableFull(),
        new AddressNotInLab(afterUnansweredArp: true),
        new BridgeNetfilter(),
        new IptablesDrop(),
        new RpFilter(),
        new GatewayNotForwarding(),
        new NoReturnRoute(),
        new NotListening(),
        new AddressNotInLab(afterUnansweredArp: false),
    ];

    /// <summary>Why a ping from <paramref name="from"/> to <paramref name="to"/> (may hold ${...}) got no answer (no probe: no counters read).</summary>
    public Task<IReadOnlyList<Finding>> DiagnoseAsync(Place from, string to, CancellationToken ct) => DiagnoseAsync(new DiagnosisProbe(from, to), ct);

    public async Task<IReadOnlyList<Finding>> DiagnoseAsync(DiagnosisProbe probe, CancellationToken ct)
    {
        var cx = new DiagnosisContext(session, runner, labPlaces, probe);
        try
        {
            foreach (var diagnosisClass in Order)
                if (await diagnosisClass.ExamineAsync(cx, ct)) break;
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            cx.Note($"(the diagnosis stopped: {e.Message})");
        }
        return cx.Findings;
    }
}

/// <summary>The diagnosis classes a lab's <c>why:</c> may name (docs/SCENARIO-LANGUAGE.md has the same table).</summary>
public static class DiagnosisClasses
{
    public static IReadOnlyList<DiagnosisClassInfo> All { get; } =
        [.. DiagnosisWalk.Order.Select(c => c.Info).DistinctBy(i => i.Id)];

    public static IReadOnlyList<string> Ids { get; } = [.. All.Select(i => i.Id)];
}
