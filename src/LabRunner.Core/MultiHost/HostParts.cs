using System.Text;
using System.Text.RegularExpressions;
using LabRunner.Loading;
using LabRunner.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace LabRunner.MultiHost;

/// <summary>
/// A lab across hosts, as each host runs it: the host addresses and uplinks of the inventory written in
/// (<c>${hosts.NAME.address}</c>, <c>${hosts.NAME.uplink}</c>), and one part per host — the lab's YAML with the same steps (titles, numbers, texts),
/// each holding only the actions and expectations <c>on:</c> that host, without <c>hosts</c> and <c>on</c>, with the
/// host's uplink, and one empty step at the end (<see cref="LastStepTitle"/>). A part is an ordinary one-host lab: the host's labrunner loads, journals, runs and tears it down.
/// </summary>
public static partial class HostParts
{
    /// <summary>The fields of a host a lab may name: <c>${hosts.NAME.address}</c> and <c>${hosts.NAME.uplink}</c>.</summary>
    public static readonly IReadOnlyList<string> HostFields = ["address", "uplink"];

    /// <summary>
    /// Writes each <c>${hosts.NAME.FIELD}</c> as <paramref name="valueOf"/>(NAME, FIELD) gives it: the host's address, or
    /// the name of its uplink (the link to the other hosts, which differs from machine to machine). A value it cannot give,
    /// or a field that is not one of <see cref="HostFields"/>, is exit 2 at its line. Done on the text, before loading,
    /// so the fields written are checked like any other.
    /// </summary>
    public static string WithHostFields(string text, string file, Func<string, string, string?> valueOf)
    {
        var errors = new List<ScenarioError>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
            lines[i] = HostReference().Replace(lines[i], m =>
            {
                var (host, field) = (m.Groups[1].Value, m.Groups[2].Value);
                var at = new SourceSpan(file, i + 1, m.Index + 1);
                if (!HostFields.Contains(field))
                    errors.Add(new ScenarioError(at, $"a host has no field '{field}'",
                        $"write ${{hosts.{host}.address}} or ${{hosts.{host}.uplink}}{(Suggest.Nearest(field, HostFields) is { } near ? $" (did you mean '{near}'?)" : "")}"));
                else if (valueOf(host, field) is { } value) return value;
                else
                    errors.Add(new ScenarioError(at, $"no {field} for host '{host}'", $"give it in the inventory ({field}: ...) and list the host in 'hosts'"));
                return m.Value;
            });
        if (errors.Count > 0) throw new ScenarioInvalidException([.. errors]);
        return string.Join('\n', lines);
    }

    /// <summary>
    /// <paramref name="text"/> (the lab <paramref name="lab"/> was loaded from) with each host's address and uplink
    /// written in: the inventory's <paramref name="hosts"/>, a host without an uplink there keeping the lab's; without an
    /// inventory, host i of <c>hosts:</c> at <see cref="StandInAddress"/>. Also the uplinks the inventory names, by host.
    /// </summary>
    public static (string Text, IReadOnlyDictionary<string, string> Uplinks) WithInventory(string text, string file, Scenario lab, IReadOnlyList<InventoryHost>? hosts)
    {
        var uplinks = (hosts ?? []).Where(h => h.Uplink is not null).ToDictionary(h => h.Name, h => h.Uplink!);
        var written = WithHostFields(text, file, (h, field) => field == "uplink"
            ? uplinks.GetValueOrDefault(h, lab.Uplink.Name)
            : hosts is null ? StandInAddress(lab, h) : hosts.FirstOrDefault(x => x.Name == h)?.Address);
        return (written, uplinks);
    }

    /// <summary>Host i of the lab's <c>hosts:</c> at 192.0.2.(i+1), the documentation range (RFC 5737): for a plan without an inventory.</summary>
    public static string? StandInAddress(Scenario lab, string host) => lab.Hosts.IndexOf(host) is var i and >= 0 and < 250 ? $"192.0.2.{i + 1}" : null;

    /// <summary>
    /// Stand-ins for checking a lab without an inventory (<c>labrunner validate</c>, <c>plan</c>): host i of the
    /// references is 192.0.2.(i+1), from the documentation range (RFC 5737), never a real machine's; every host's uplink
    /// is the lab's own (<c>uplink: { name }</c>), which is also what a host without one in the inventory gets.
    /// </summary>
    public static string WithStandIns(string text, string file)
    {
        if (!text.Contains("${hosts.", StringComparison.Ordinal)) return text;
        var order = new List<string>();
        foreach (Match m in HostReference().Matches(text))
            if (m.Groups[2].Value == "address" && !order.Contains(m.Groups[1].Value)) order.Add(m.Groups[1].Value);
        var uplink = LabUplinkName(text);
        return WithHostFields(text, file, (h, field) => field switch
        {
            "uplink" => uplink,
            _ => order.IndexOf(h) is var i and >= 0 && i < 250 ? $"192.0.2.{i + 1}" : null,
        });
    }

    /// <summary>
    /// The lab's <c>uplink: { name }</c> as written (the default, <see cref="Uplink.Default"/>, if none): each host's
    /// uplink unless the inventory names another. Text that is no YAML gives the default; the loader says what is wrong.
    /// </summary>
    public static string LabUplinkName(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 1 && stream.Documents[0].RootNode is YamlMappingNode root &&
                root.Children.TryGetValue(new YamlScalarNode("uplink"), out var uplink) && uplink is YamlMappingNode map &&
                Scalar(map, "name") is { Length: > 0 } name)
                return name;
        }
        catch (YamlException)
        {
        }
        return Uplink.Default.Name;
    }

    /// <summary>The part of <paramref name="labText"/> (a lab with <c>hosts:</c>, already loaded without error) that runs on <paramref name="host"/>.</summary>
    public static string PartText(string labText, string host, string? uplink)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(labText));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        // The hosts of the whole lab, for a capture whose ping runs on another host (the part's loader checks its 'on').
        if (root.Children.TryGetValue(new YamlScalarNode("hosts"), out var hosts)) root.Children[new YamlScalarNode("part-of")] = hosts;
        root.Children.Remove(new YamlScalarNode("hosts"));
        if (uplink is not null)
            root.Children[new YamlScalarNode("uplink")] = new YamlMappingNode { { "name", uplink } };
        if (root.Children.TryGetValue(new YamlScalarNode("steps"), out var steps) && steps is YamlSequenceNode stepList)
            foreach (var step in stepList.Children.OfType<YamlMappingNode>())
            {
                var stepOn = Scalar(step, "on");
                step.Children.Remove(new YamlScalarNode("on"));
                foreach (var key in new[] { "actions", "expect" })
                {
                    if (!step.Children.TryGetValue(new YamlScalarNode(key), out var list) || list is not YamlSequenceNode entries) continue;
                    var kept = new YamlSequenceNode();
                    foreach (var entry in entries.Children.OfType<YamlMappingNode>())
                    {
                        if ((Scalar(entry, "on") ?? stepOn) != host) continue;
                        entry.Children.Remove(new YamlScalarNode("on"));
                        kept.Add(entry);
                    }
                    if (kept.Children.Count == 0) step.Children.Remove(new YamlScalarNode(key));
                    else step.Children[new YamlScalarNode(key)] = kept;
                }
            }
        // The last barrier: every host waits before this empty step until every host has run every step, so no host
        // tears down while another still checks something against it.
        if (steps is YamlSequenceNode all)
            all.Add(new YamlMappingNode { { "title", LastStepTitle } });
        var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        // YamlStream ends a document with "...": a part is one document, read whole.
        return writer.ToString().TrimEnd().TrimEnd('.').TrimEnd() + "\n";
    }

    /// <summary>The title of the empty step every part ends with (its barrier is the one before the teardowns).</summary>
    public const string LastStepTitle = "every host has run every step: tearing down";

    /// <summary>The part as the first line of <c>labrunner part</c>'s standard input: base64 of its UTF-8 text.</summary>
    public static string Encode(string partText) => Convert.ToBase64String(Encoding.UTF8.GetBytes(partText));

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? (value as YamlScalarNode)?.Value : null;

    [GeneratedRegex(@"\$\{hosts\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\}")]
    private static partial Regex HostReference();
}
