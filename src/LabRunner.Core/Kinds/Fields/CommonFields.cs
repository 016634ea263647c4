using LabRunner.Model;

namespace LabRunner.Kinds;

/// <summary>Fields and rules that several kinds share (iptables names, a MAC given by a link, the common 'within').</summary>
public static class CommonFields
{
    public static readonly string[] IptablesTables = ["filter", "nat", "mangle", "raw"];

    public static readonly string[] IptablesPolicies = ["ACCEPT", "DROP"];

    public static readonly string[] LinkStates = ["UP", "DOWN", "LOWERLAYERDOWN", "UNKNOWN", "DORMANT", "NOTPRESENT"];

    public static readonly FieldSpec Table = new("table", FieldType.Choice, "the iptables table (default filter)") { Choices = [.. IptablesTables] };

    public static readonly FieldSpec Chain = new("chain", FieldType.Chain, "the chain, e.g. FORWARD", Required: true);

    public static readonly FieldSpec Policy = new("policy", FieldType.Choice, "the chain's policy", Required: true) { Choices = [.. IptablesPolicies] };

    /// <summary>'mac-of: { link: veth-2, in: busybox-1 }': a MAC known only at run time (MACs are random).</summary>
    public static readonly FieldSpec MacOf = new("mac-of", FieldType.Map, "the MAC of this link, read at run time")
    {
        Fields = [new("link", FieldType.Interface, "the link whose MAC is meant", Required: true), FieldSpec.In],
    };

    /// <summary>How long an expectation may take to hold; beside the kind or inside it.</summary>
    public static readonly FieldSpec Within = new("within", FieldType.Duration, "how long it may take to hold (default 5s), e.g. 500ms, 10s");

    /// <summary>An action that must fail, and the text its error must contain.</summary>
    public static readonly FieldSpec FailsWith = new("fails-with", FieldType.Text, "the action must fail, and its error must contain this text");

    /// <summary>
    /// 'why: no-return-route' or 'why: [iptables-drop, rp-filter]': the diagnosis classes that must explain an expected
    /// failure (ping with succeeds false, connect with a failing result, http with succeeds false).
    /// </summary>
    public static readonly FieldSpec Why = new("why", FieldType.Choices,
        "diagnosis classes the expected failure must be explained by (one id or a list), e.g. no-return-route: the diagnosis runs and must find each")
    {
        Choices = [.. Engine.Diagnosis.DiagnosisClasses.Ids],
    };

    /// <summary>The ids of 'why' (empty when absent); an unknown id is reported at its position with the known ones.</summary>
    public static System.Collections.Immutable.ImmutableArray<string> ReadWhy(FieldReader r)
    {
        if (r.Node("why") is not { } node) return [];
        var known = Engine.Diagnosis.DiagnosisClasses.Ids;
        var ids = System.Collections.Immutable.ImmutableArray.CreateBuilder<string>();
        IReadOnlyList<FieldValue> items = node is ListValue list ? list.Items : [node];
        if (items.Count == 0) r.Error(node.Span, "'why' is empty", "name at least one diagnosis class, e.g. why: no-return-route");
        foreach (var item in items)
        {
            if (item is not ScalarValue s)
            {
                r.Error(item.Span, "'why' must be a diagnosis class id or a list of them", "e.g. why: no-return-route, or why: [iptables-drop, rp-filter]");
                continue;
            }
            if (!known.Contains(s.Text))
            {
                var near = Loading.Suggest.Nearest(s.Text, known);
                r.Error(s.Span, $"unknown diagnosis class '{s.Text}'",
                    (near is null ? "" : $"did you mean '{near}'? ") + $"known: {string.Join(", ", known)} (docs/SCENARIO-LANGUAGE.md, Diagnosis classes)");
                continue;
            }
            if (!ids.Contains(s.Text)) ids.Add(s.Text);
        }
        return ids.ToImmutable();
    }

    /// <summary>The iptables table ('filter' when not given).</summary>
    public static string ReadTable(FieldReader r) =>
        r.Choice("table", IptablesTables, "unknown iptables table '{0}'", "use filter, nat, mangle or raw", fallback: "filter")!;

    /// <summary>(table, chain, policy) with their rules.</summary>
    public static (string Table, string? Chain, string? Policy) ReadPolicy(FieldReader r)
    {
        var table = ReadTable(r);
        var chain = r.Chain("chain", required: true);
        var policy = r.String("policy", required: true);
        if (policy is not null && !IptablesPolicies.Contains(policy)) r.Error(r.SpanOf("policy"), $"policy must be ACCEPT or DROP, not '{policy}'");
        return (table, chain, policy);
    }

    public static (string? Link, Place? In) ReadMacOf(FieldReader r)
    {
        if (r.Map("mac-of", "'mac-of'") is not { } of) return (null, null);
        var link = of.Interface("link", required: true);
        var place = of.PlaceOf();
        of.RejectUnknownKeys("'mac-of'");
        return (link, place);
    }

    /// <summary>The policy line of `iptables -S CHAIN` ("-P FORWARD DROP"), or null for a chain without one.</summary>
    public static string? ParsePolicy(string iptablesS, string chain)
    {
        var prefix = $"-P {chain} ";
        return iptablesS.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..].Trim();
    }
}
