namespace LabRunner.Engine.Diagnosis;

/// <summary>The sender has no route to the destination: nothing is sent at all.</summary>
internal sealed class NoRoute : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("no-route",
        "the sender has no route to the destination (`ip route get` fails)",
        "an address in the destination's subnet, or a default route");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        var (hop, _) = await cx.RouteAsync(cx.From, cx.To, ct);
        if (hop is null)
        {
            cx.Add(Class.Id, cx.To.StartsWith("127.", StringComparison.Ordinal)
                ? $"{cx.From.Name} has no route to {cx.To}: its lo is down (a new namespace's is): ip link set lo up there"
                : $"{cx.From.Name} has no route to {cx.To}: give it an address in {cx.To}'s subnet, or a default route");
            return true;
        }
        cx.Route = hop;
        cx.Note($"{cx.From.Name} sends to {cx.To} via {hop.Dev}" + (hop.Gateway is null ? " (on-link)" : $", through the gateway {hop.Gateway}") +
                (hop.Source is { } src ? $", from {src}" : ""));
        return false;
    }
}
