using static LabRunner.Execution.IpJson;

namespace LabRunner.Engine.Diagnosis;

/// <summary>The link the sender's route leaves by is not up (or its veth peer is not).</summary>
internal sealed class LinkDown : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("link-down",
        "the link the sender's route leaves by is DOWN, or LOWERLAYERDOWN (its veth peer is down)",
        "ip link set dev LINK up (or its peer)");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        var dev = cx.Route!.Dev;
        var link = await cx.JsonAsync(cx.Target(cx.From).Ip("-j", "link", "show", "dev", dev), ct);
        var state = link is { } l && l.GetArrayLength() > 0 ? Str(l[0], "operstate") : null;
        if (state is null or "UP" or "UNKNOWN") return false;
        cx.Add(Class.Id, $"{dev} in {cx.From.Name} is {state}" + (state == "LOWERLAYERDOWN"
            ? ": its peer is down or not up yet (ip link set PEER up)"
            : ": bring it up (ip link set dev " + dev + " up)"));
        return true;
    }
}
