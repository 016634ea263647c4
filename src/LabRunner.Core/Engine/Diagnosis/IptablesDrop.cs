using System.Globalization;
using LabRunner.Execution;

namespace LabRunner.Engine.Diagnosis;

/// <summary>
/// An iptables rule (any table, any chain: FORWARD, INPUT, OUTPUT, PREROUTING…) with a DROP or REJECT target, or a
/// chain's DROP policy, that dropped the traffic: named by its own counter, read with <c>iptables-save -c</c> in every
/// place of the lab before and after the probe is sent again, and by its text.
/// </summary>
internal sealed class IptablesDrop : IDiagnosisClass
{
    public static readonly DiagnosisClassInfo Class = new("iptables-drop",
        "a DROP or REJECT rule (any table and chain), or a DROP policy, whose packet counter grew while the traffic was sent again (`iptables-save -c` before and after)",
        "delete the rule (iptables -D …) or insert an ACCEPT for this traffic before it; for a policy, an ACCEPT rule in that chain");

    public DiagnosisClassInfo Info => Class;

    public async Task<bool> ExamineAsync(DiagnosisContext cx, CancellationToken ct)
    {
        if (cx.Layer2Reached != true) return false;
        var counters = await cx.CountersAsync(ct);
        var seen = new HashSet<(string, string)>();
        foreach (var place in counters.Places)
        {
            if (counters.Before.IptablesSave.GetValueOrDefault(place) is not { } beforeText ||
                counters.After.IptablesSave.GetValueOrDefault(place) is not { } afterText) continue;
            // Containers of one pod share a namespace: the same tables twice are looked at once.
            if (!seen.Add((Strip(beforeText), Strip(afterText)))) continue;
            var before = IptablesSave.Parse(beforeText);
            var after = IptablesSave.Parse(afterText);
            foreach (var rule in after.Rules.Where(r => r.Target is "DROP" or "REJECT" && r.Packets is not null))
            {
                if (Match(before, after, rule) is not { Packets: { } was } || rule.Packets <= was) continue;
                var verb = rule.Target == "DROP" ? "dropped" : "rejected";
                cx.Add(Class.Id, $"{Display(rule)} {verb} {Packets(rule.Packets!.Value - was)} (counter {was} → {rule.Packets}) in {place}");
                cx.Add(Class.Id, $"try: delete it ({rule.DeleteCommand} in {place}), or insert an ACCEPT for this traffic before it " +
                                 $"(iptables -t {rule.Table} -I {rule.Chain} {rule.Position} …)");
            }
            foreach (var chain in after.Chains.Where(c => c.Policy == "DROP"))
            {
                var was = before.Table(chain.Table)?.Chain(chain.Name)?.Packets;
                if (was is null || chain.Packets <= was) continue;
                cx.Add(Class.Id, $"the {chain.Table} {chain.Name} policy DROP dropped {Packets(chain.Packets - was.Value)} (counter {was} → {chain.Packets}) in {place}");
                cx.Add(Class.Id, $"try: an ACCEPT rule for this traffic in {place}'s {chain.Table} {chain.Name} chain, or iptables -t {chain.Table} -P {chain.Name} ACCEPT");
            }
        }
        return false;
    }

    /// <summary>The same rule before: same table, chain and text, the same one of identical rules.</summary>
    private static SavedRule? Match(IptablesSave before, IptablesSave after, SavedRule rule)
    {
        var nth = after.Rules.Where(r => r.SameRuleAs(rule)).ToList().IndexOf(rule);
        var candidates = before.Rules.Where(r => r.SameRuleAs(rule)).ToList();
        return nth >= 0 && nth < candidates.Count ? candidates[nth] : null;
    }

    /// <summary>The rule as iptables-save writes it, with its table when it is not filter: "-t raw -A PREROUTING …".</summary>
    private static string Display(SavedRule rule) => rule.Table == "filter" ? rule.Text : $"-t {rule.Table} {rule.Text}";

    private static string Packets(long n) => n.ToString(CultureInfo.InvariantCulture) + (n == 1 ? " packet" : " packets");

    /// <summary>Without its comment lines (they carry the time), to compare two outputs.</summary>
    private static string Strip(string text) => string.Join('\n', text.Split('\n').Where(l => !l.StartsWith('#')));
}
