using System.Collections.Immutable;
using System.Text.RegularExpressions;
using LabRunner.Loading;
using LabRunner.Model;

namespace LabRunner.Authoring;

/// <summary>
/// Turns drafts into model records with the YAML loader's checks and messages (names, addresses, keys, states),
/// each error pointing at the builder call that wrote the value. Flow checks (what exists when) are
/// <see cref="ScenarioValidator"/>'s, for C# and YAML labs alike.
/// </summary>
internal sealed partial class BuildContext(IReadOnlySet<string> netns, IReadOnlySet<string> containers)
{
    private readonly List<ScenarioError> _errors = [];

    public IReadOnlyList<ScenarioError> Errors => _errors;

    public IReadOnlySet<string> Containers => containers;

    public void Error(SourceSpan span, string message, string? hint = null) => _errors.Add(new(span, message, hint));

    /// <summary>A place by name: null or "host" is the lab's host; else a netns or container some action creates.</summary>
    public Place Place(string? name, SourceSpan span)
    {
        if (name is null || name == "host") return Model.Place.Host;
        if (netns.Contains(name)) return Model.Place.Netns(name);
        if (containers.Contains(name)) return Model.Place.Container(name);
        UnknownName(span, name, "netns or container", netns.Concat(containers));
        return Model.Place.Host;
    }

    /// <summary>The action's own place (In), or the host; reports In() on an action that has none.</summary>
    public Place PlaceOf(ActionDraft d) => Place(d.In, d.InSpan ?? d.Span);

    public Place PlaceOf(ExpectationDraft d) => Place(d.In, d.InSpan ?? d.Span);

    public string? Container(string name, SourceSpan span)
    {
        if (containers.Contains(name)) return name;
        UnknownName(span, name, "container", containers);
        return null;
    }

    public void UnknownName(SourceSpan span, string name, string what, IEnumerable<string> known)
    {
        var all = known.ToList();
        var near = Suggest.Nearest(name, all);
        Error(span, $"unknown {what} '{name}': no action of this lab creates it",
            near is not null ? $"did you mean '{near}'?" : all.Count == 0 ? "create it first (Netns or Container)" : $"known: host, {string.Join(", ", all.Order())}");
    }

    public string? Interface(string? name, SourceSpan span, string what)
    {
        if (name is null) { Error(span, $"'{what}' is missing"); return null; }
        if (Names.CheckInterface(name) is { } why) { Error(span, why); return null; }
        return name;
    }

    public string? Object(string? name, SourceSpan span, string what)
    {
        if (name is null) { Error(span, $"the {what} name is missing"); return null; }
        if (Names.CheckObject(name, what) is { } why) { Error(span, why); return null; }
        return name;
    }

    public string? Cidr(string? text, SourceSpan span, string what = "address")
    {
        if (text is null) { Error(span, $"'{what}' is missing"); return null; }
        if (Names.CheckCidr(text) is { } why) { Error(span, why, "write it as address/prefix, e.g. 172.16.100.1/24"); return null; }
        return text;
    }

    public string? Ip(string? text, SourceSpan span, string what)
    {
        if (text is null) return null;
        if (!Names.IsIPv4(text)) { Error(span, $"'{text}' is not an IPv4 address", "e.g. 172.16.100.101"); return null; }
        return text;
    }

    /// <summary>An address to ping: an IPv4 address or ${uplink.ip}.</summary>
    public string? PingTarget(string? text, SourceSpan span)
    {
        if (text is null) { Error(span, "'to' is missing", "the address to ping"); return null; }
        if (text.Contains("${")) return Template(text, span) ? text : null;
        if (!Names.IsIPv4(text))
        {
            Error(span, $"'{text}' is not an IPv4 address", "e.g. 172.16.100.1, or ${uplink.ip} for the host's uplink");
            return null;
        }
        return text;
    }

    public string? RouteDestination(string? to, SourceSpan span)
    {
        if (to is null) { Error(span, "'to' is missing", "'default' or a CIDR such as 10.0.0.0/24"); return null; }
        if (to != "default" && Names.CheckCidr(to) is { } why) { Error(span, why, "use 'default' or a CIDR such as 10.0.0.0/24"); return null; }
        return to;
    }

    public string? SysctlKey(string? key, SourceSpan span)
    {
        if (key is null) { Error(span, "the sysctl key is missing"); return null; }
        if (Names.CheckSysctlKey(key) is { } why) { Error(span, why); return null; }
        return key;
    }

    public (string Table, string Chain, string Policy)? Policy(string table, string chain, string policy, SourceSpan span)
    {
        var ok = true;
        if (table is not ("filter" or "nat" or "mangle" or "raw")) { Error(span, $"unknown iptables table '{table}'", "use filter, nat, mangle or raw"); ok = false; }
        if (Names.CheckChain(chain) is { } why) { Error(span, why); ok = false; }
        if (policy is not ("ACCEPT" or "DROP")) { Error(span, $"policy must be ACCEPT or DROP, not '{policy}'"); ok = false; }
        return ok ? (table, chain, policy) : null;
    }

    public ImmutableArray<string>? Argv(IReadOnlyList<string>? argv, SourceSpan span, string what)
    {
        if (argv is null) { Error(span, $"'{what}' is missing", "give the command as a list: [\"ip\", \"link\", \"show\"]"); return null; }
        if (argv.Count == 0) { Error(span, $"'{what}' is empty"); return null; }
        var ok = true;
        foreach (var arg in argv)
        {
            if (arg is null) { Error(span, $"'{what}' holds a null argument"); ok = false; continue; }
            if (arg.Any(c => c == '\0' || c == '\n')) { Error(span, "an argument may not contain NUL or newline"); ok = false; }
            ok &= Template(arg, span);
        }
        return ok ? [.. argv] : null;
    }

    public bool Template(string text, SourceSpan span)
    {
        if (Templates.Check(text, containers) is not { } why) return true;
        Error(span, why);
        return false;
    }

    public string? LinkState(string? state, SourceSpan span)
    {
        if (state is null or "UP" or "DOWN" or "LOWERLAYERDOWN" or "UNKNOWN" or "DORMANT" or "NOTPRESENT") return state;
        Error(span, $"unknown link state '{state}'", "use UP, DOWN, LOWERLAYERDOWN or UNKNOWN (ip link's 'state')");
        return null;
    }

    public string? Mac(string? mac, SourceSpan span)
    {
        if (mac is null || MacPattern().IsMatch(mac)) return mac;
        Error(span, $"'{mac}' is not a MAC address like 3e:79:d5:dd:06:f6", "or use macOf: \"veth-2\", macOfIn: \"busybox-1\"");
        return null;
    }

    /// <summary>pcap filters, checked as the YAML loader checks them (libpcap compiles them before a run).</summary>
    public ImmutableArray<string> Filters(IReadOnlyList<string>? filters, SourceSpan span, string what)
    {
        foreach (var f in filters ?? [])
            if (Loading.CaptureFilters.FormProblem(f, what) is { } problem) Error(span, problem.Message, problem.Hint);
        return [.. filters ?? []];
    }

    public ImmutableArray<string>? Interfaces(IReadOnlyList<string>? names, SourceSpan span, string what)
    {
        if (names is null) { Error(span, $"'{what}' is missing"); return null; }
        var ok = true;
        foreach (var name in names)
        {
            var why = name is null ? $"'{what}' holds a null name" : Names.CheckInterface(name);
            if (why is null) continue;
            Error(span, why);
            ok = false;
        }
        return ok ? [.. names] : null;
    }

    [GeneratedRegex("^([0-9a-f]{2}:){5}[0-9a-f]{2}$")]
    private static partial Regex MacPattern();
}
