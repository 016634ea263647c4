using System.Text;
using System.Text.RegularExpressions;
using LabRunner.Loading;
using LabRunner.Model;
using YamlDotNet.RepresentationModel;

namespace LabRunner.MultiHost;

/// <summary>
/// A lab across hosts, as each host runs it: the host addresses of the inventory written in
/// (<c>${hosts.NAME.address}</c>), and one part per host — the lab's YAML with the same steps (titles, numbers, texts),
/// each holding only the actions and expectations <c>on:</c> that host, without <c>hosts</c> and <c>on</c>, with the
/// host's uplink, and one empty step at the end (<see cref="LastStepTitle"/>). A part is an ordinary one-host lab: the host's labrunner loads, journals, runs and tears it down.
/// </summary>
public static partial class HostParts
{
    /// <summary>
    /// Writes each <c>${hosts.NAME.address}</c> as the address <paramref name="addressOf"/> gives; one it cannot give is
    /// exit 2 at its line. Done on the text, before loading, so the address fields are checked like any other.
    /// </summary>
    public static string WithHostAddresses(string text, string file, Func<string, string?> addressOf)
    {
        var errors = new List<ScenarioError>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
            lines[i] = AddressReference().Replace(lines[i], m =>
            {
                if (addressOf(m.Groups[1].Value) is { } address) return address;
                errors.Add(new ScenarioError(new SourceSpan(file, i + 1, m.Index + 1), $"no address for host '{m.Groups[1].Value}'",
                    "give it in the inventory (address: ...) and list the host in 'hosts'"));
                return m.Value;
            });
        if (errors.Count > 0) throw new ScenarioInvalidException([.. errors]);
        return string.Join('\n', lines);
    }

    /// <summary>
    /// Stand-in addresses for checking a lab without an inventory (<c>labrunner validate</c>, <c>plan</c>): host i of
    /// <c>hosts:</c> is 192.0.2.(i+1), from the documentation range (RFC 5737), never a real machine's.
    /// </summary>
    public static string WithStandInAddresses(string text, string file)
    {
        var order = new List<string>();
        foreach (Match m in AddressReference().Matches(text))
            if (!order.Contains(m.Groups[1].Value)) order.Add(m.Groups[1].Value);
        return WithHostAddresses(text, file, h => order.IndexOf(h) is var i and >= 0 && i < 250 ? $"192.0.2.{i + 1}" : null);
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

    [GeneratedRegex(@"\$\{hosts\.([A-Za-z0-9_-]+)\.address\}")]
    private static partial Regex AddressReference();
}
