namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// No namespace or container of the lab has the address: checked twice in the walk, for the next hop right after an
/// unanswered ARP (then the walk stops: nothing beyond layer 2 can be judged), and at the end for an on-link
/// destination when no other class was found (where the destination is then named, with what to check there).
/// </summary>
internal sealed class AddressNotInLab(bool afterUnansweredArp) : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("address-not-in-lab",
        "no namespace or container of the lab has the address pinged (or the next hop's)",
        "give the address to the place meant, or ping an address the lab has");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        if (afterUnansweredArp)
        {
            if (cx.Layer2Reached != false) return false;
            await OwnerAsync(cx, cx.Route!.Gateway ?? cx.To, ct);
            return true;
        }
        if (cx.Layer2Reached != true || cx.Route!.Gateway is not null || cx.AnyClassFound) return false;
        await OwnerAsync(cx, cx.To, ct);
        return false;
    }

    private static async Task OwnerAsync(DiagnosisContext cx, string ip, CancellationToken ct)
    {
        if (await cx.OwnerOfAsync(ip, ct) is { } place) cx.Note($"{ip} is on {place}: check its route back to the sender, and its INPUT chain");
        else cx.Add(Class.Id, $"no namespace or container of the lab has the address {ip}");
    }
}
