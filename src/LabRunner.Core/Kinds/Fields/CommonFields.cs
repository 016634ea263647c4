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
