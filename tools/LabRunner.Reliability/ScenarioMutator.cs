using System.Globalization;
using Bogus;
using YamlDotNet.RepresentationModel;

namespace LabRunner.Reliability;

/// <summary>A mutated scenario and what was done to it (so a failure can be read, and reproduced from the seed).</summary>
public sealed record Mutant(int Number, string Source, string Text, IReadOnlyList<string> Mutations);

/// <summary>
/// Mutates valid scenarios with Bogus, deterministically from a seed: on the YAML tree (types, names, addresses,
/// references, order of steps and actions, missing and unknown keys, hostile names) and on the text (lines
/// deleted, duplicated, swapped, re-indented, truncated, bytes inserted). Mutant n of a seed is always the same.
/// </summary>
public sealed class ScenarioMutator
{
    /// <summary>Names an attacker or a typo could write; none of them is a program that could run (argv[0] is never a shell).</summary>
    public static readonly IReadOnlyList<string> HostileNames =
    [
        "n1;reboot", "$(id)", "`id`", "../x", "../../etc/passwd", "/etc/passwd", "-rf", "--help", "-n", " n1", "n1 ",
        "n1\nx", "n1\tx", "a/b", "..", ".", "n1|cat", "n1&&true", "${busybox-1.pid};x", "${nope.pid}", "${uplink.ip}",
        new string('a', 16), new string('n', 300), "ñame", "näm€", "\u202Eevil", "host", "lo", "lr-ffffff-n1", "",
        "0", "-1", "1e9", "NaN", "true", "null", "~", "[x]", "{a: b}", "*x", "&x", "!!binary", "%TAG",
    ];

    private static readonly string[] BadAddresses =
    [
        "300.1.1.1/24", "1.2.3/24", "1.2.3.4/33", "1.2.3.4/-1", "::1/64", "172.16.100.1", "01.2.3.4/24", "0x0a.0.0.1/8",
        "1.2.3.4/24/24", "1.2.3.4 /24", "default", "localhost", "172.16.100.1/024",
        "fd00::1::2/64", "fd00::1/129", "fd00::g/64", "[fd00::1]/64", "fe80::1%eth0/64", "fd00:300::1/64", "fd00::1", ":::", "::ffff:300.1.1.1/64",
    ];

    private readonly Faker _faker;
    private readonly IReadOnlyList<(string Name, string Text)> _sources;

    public ScenarioMutator(int seed, IReadOnlyList<(string Name, string Text)> sources)
    {
        Seed = seed;
        _faker = new Faker { Random = new Randomizer(seed) };
        _sources = sources;
    }

    public int Seed { get; }

    /// <summary>The article scenarios of this repository.</summary>
    public static IReadOnlyList<(string Name, string Text)> ArticleSources() => SourcesIn("article");

    /// <summary>
    /// The sources mutants are made from: the article's scenarios and the curriculum's, so that every kind a lab uses
    /// (masquerade, publish, serve, counter, netem, vlan-add, IPv6 addresses, why: ...) gets mutated.
    /// </summary>
    public static IReadOnlyList<(string Name, string Text)> Sources() => [.. ArticleSources(), .. SourcesIn("curriculum")];

    private static IReadOnlyList<(string Name, string Text)> SourcesIn(string folder) =>
    [
        .. Directory.GetFiles(Path.Combine(LabProcess.RepoRoot, "scenarios", folder), "*.yaml").Order(StringComparer.Ordinal)
            .Select(p => ($"{folder}/{Path.GetFileName(p)}", File.ReadAllText(p))),
    ];

    public IEnumerable<Mutant> Mutants(int count)
    {
        for (var n = 1; n <= count; n++) yield return Next(n);
    }

    private Mutant Next(int number)
    {
        var (name, text) = _faker.PickRandom(_sources.ToList());
        var done = new List<string>();
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var root = stream.Documents[0].RootNode;
        var treeMutations = _faker.Random.Int(1, 3);
        for (var i = 0; i < treeMutations; i++) done.Add(MutateTree(root));
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        stream.Save(writer, assignAnchors: false);
        var mutated = writer.ToString();
        if (_faker.Random.Bool(0.25f))
        {
            (mutated, var what) = MutateText(mutated);
            done.Add(what);
        }
        return new Mutant(number, name, mutated, done);
    }

    // ---------- the tree ----------

    private sealed record Slot(YamlNode Node, YamlNode? Parent, YamlNode? Key, string Path);

    private static List<Slot> Slots(YamlNode root)
    {
        var slots = new List<Slot>();
        void Walk(YamlNode node, YamlNode? parent, YamlNode? key, string path)
        {
            slots.Add(new Slot(node, parent, key, path));
            switch (node)
            {
                case YamlMappingNode m:
                    foreach (var (k, v) in m.Children.ToList()) Walk(v, m, k, $"{path}.{k}");
                    break;
                case YamlSequenceNode s:
                    for (var i = 0; i < s.Children.Count; i++) Walk(s.Children[i], s, null, $"{path}[{i}]");
                    break;
            }
        }
        Walk(root, null, null, "$");
        return slots;
    }

    private string MutateTree(YamlNode root)
    {
        var slots = Slots(root);
        var scalars = slots.Where(s => s.Node is YamlScalarNode && s.Parent is not null).ToList();
        var maps = slots.Where(s => s.Node is YamlMappingNode { Children.Count: > 0 }).ToList();
        var seqs = slots.Where(s => s.Node is YamlSequenceNode { Children.Count: > 0 }).ToList();
        var names = scalars.Select(s => ((YamlScalarNode)s.Node).Value ?? "").Where(v => v.Length > 0 && v.Length < 20 && !v.Contains(' ')).Distinct().ToList();
        switch (_faker.Random.Int(0, 11))
        {
            case 0 when scalars.Count > 0: // change the type of a value
            {
                var slot = _faker.PickRandom(scalars);
                var replacement = _faker.Random.Int(0, 6) switch
                {
                    0 => new YamlScalarNode(_faker.Random.Int(-5, 100000).ToString(CultureInfo.InvariantCulture)),
                    1 => new YamlScalarNode(_faker.Random.Bool() ? "true" : "no"),
                    2 => new YamlScalarNode(""),
                    3 => new YamlScalarNode("~"),
                    4 => (YamlNode)new YamlSequenceNode(new YamlScalarNode(_faker.Lorem.Word()), new YamlScalarNode("1")),
                    5 => new YamlMappingNode(new YamlScalarNode(_faker.Lorem.Word()), new YamlScalarNode(_faker.Lorem.Word())),
                    _ => new YamlScalarNode(_faker.Random.Double(0, 1000).ToString("0.###", CultureInfo.InvariantCulture) + _faker.PickRandom("s", "ms", "m", "h", "")),
                };
                Replace(slot, replacement);
                return $"type: {slot.Path} = {Show(replacement)}";
            }
            case 1 when scalars.Count > 0: // a hostile name
            {
                var slot = _faker.PickRandom(scalars);
                var value = _faker.PickRandom(HostileNames.ToList());
                Replace(slot, new YamlScalarNode(value));
                return $"hostile: {slot.Path} = '{value}'";
            }
            case 2 when scalars.Count > 0 && names.Count > 0: // a reference to another name of the lab, or to none
            {
                var slot = _faker.PickRandom(scalars);
                var value = _faker.Random.Bool(0.7f) ? _faker.PickRandom(names) : _faker.Internet.DomainWord();
                Replace(slot, new YamlScalarNode(value));
                return $"reference: {slot.Path} = '{value}'";
            }
            case 3 when scalars.Count > 0: // an address
            {
                var candidates = scalars.Where(s => ((YamlScalarNode)s.Node).Value is { } v && (v.Contains('.') && char.IsDigit(v[0]) || v == "default")).ToList();
                var slot = _faker.PickRandom(candidates.Count > 0 ? candidates : scalars);
                var value = _faker.Random.Int(0, 4) switch
                {
                    0 => _faker.Internet.Ip(),
                    1 => $"{_faker.Internet.Ip()}/{_faker.Random.Int(0, 32)}",
                    2 => $"172.16.100.{_faker.Random.Int(0, 255)}/24",
                    3 => _faker.Random.Bool() ? _faker.Internet.Ipv6() : $"{_faker.Internet.Ipv6()}/{_faker.Random.Int(0, 128)}",
                    _ => _faker.PickRandom(BadAddresses),
                };
                Replace(slot, new YamlScalarNode(value));
                return $"address: {slot.Path} = '{value}'";
            }
            case 4 when seqs.Count > 0: // reorder (steps, actions, expectations, argv)
            {
                var slot = _faker.PickRandom(seqs);
                var seq = (YamlSequenceNode)slot.Node;
                var shuffled = _faker.Random.Shuffle(seq.Children.ToList()).ToList();
                seq.Children.Clear();
                foreach (var c in shuffled) seq.Children.Add(c);
                return $"reorder: {slot.Path}";
            }
            case 5 when seqs.Count > 0: // swap two neighbours (the smallest reorder: an action before what it needs)
            {
                var slot = _faker.PickRandom(seqs);
                var seq = (YamlSequenceNode)slot.Node;
                if (seq.Children.Count < 2) return "swap: (too short)";
                var i = _faker.Random.Int(0, seq.Children.Count - 2);
                (seq.Children[i], seq.Children[i + 1]) = (seq.Children[i + 1], seq.Children[i]);
                return $"swap: {slot.Path}[{i}] and [{i + 1}]";
            }
            case 6 when maps.Count > 0: // a missing key
            {
                var slot = _faker.PickRandom(maps);
                var map = (YamlMappingNode)slot.Node;
                var key = _faker.PickRandom(map.Children.Keys.ToList());
                map.Children.Remove(key);
                return $"drop: {slot.Path}.{key}";
            }
            case 7 when maps.Count > 0: // an unknown or misspelt key
            {
                var slot = _faker.PickRandom(maps);
                var map = (YamlMappingNode)slot.Node;
                var existing = map.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList();
                var key = _faker.Random.Bool() && existing.Count > 0 ? Typo(_faker.PickRandom(existing)) : _faker.Lorem.Word();
                if (map.Children.ContainsKey(new YamlScalarNode(key))) return $"add-key: {key} (exists)";
                map.Children.Add(new YamlScalarNode(key), new YamlScalarNode(_faker.Lorem.Word()));
                return $"add-key: {slot.Path}.{key}";
            }
            case 8 when seqs.Count > 0: // duplicate an item (an action done twice)
            {
                var slot = _faker.PickRandom(seqs);
                var seq = (YamlSequenceNode)slot.Node;
                var i = _faker.Random.Int(0, seq.Children.Count - 1);
                seq.Children.Insert(i, Clone(seq.Children[i]));
                return $"duplicate: {slot.Path}[{i}]";
            }
            case 9 when seqs.Count > 1: // move an item to another list (an action into another step)
            {
                var from = _faker.PickRandom(seqs);
                var to = _faker.PickRandom(seqs);
                var source = (YamlSequenceNode)from.Node;
                if (source.Children.Count == 0 || ReferenceEquals(from.Node, to.Node)) return "move: (same list)";
                var i = _faker.Random.Int(0, source.Children.Count - 1);
                var item = source.Children[i];
                if (Slots(item).Any(s => ReferenceEquals(s.Node, to.Node))) return "move: (into itself)";
                source.Children.RemoveAt(i);
                var target = (YamlSequenceNode)to.Node;
                target.Children.Insert(_faker.Random.Int(0, target.Children.Count), item);
                return $"move: {from.Path}[{i}] -> {to.Path}";
            }
            case 10 when maps.Count > 1: // swap the values of two keys
            {
                var slot = _faker.PickRandom(maps);
                var map = (YamlMappingNode)slot.Node;
                if (map.Children.Count < 2) return "swap-values: (one key)";
                var keys = _faker.Random.Shuffle(map.Children.Keys.ToList()).Take(2).ToList();
                (map.Children[keys[0]], map.Children[keys[1]]) = (map.Children[keys[1]], map.Children[keys[0]]);
                return $"swap-values: {slot.Path}.{keys[0]} <-> {keys[1]}";
            }
            default: // a whole value replaced by a random Bogus word, or a step/action removed
            {
                if (seqs.Count > 0 && _faker.Random.Bool())
                {
                    var slot = _faker.PickRandom(seqs);
                    var seq = (YamlSequenceNode)slot.Node;
                    var i = _faker.Random.Int(0, seq.Children.Count - 1);
                    seq.Children.RemoveAt(i);
                    return $"remove: {slot.Path}[{i}]";
                }
                if (scalars.Count == 0) return "(nothing)";
                var s = _faker.PickRandom(scalars);
                var word = _faker.Lorem.Word();
                Replace(s, new YamlScalarNode(word));
                return $"word: {s.Path} = '{word}'";
            }
        }
    }

    private string Typo(string word)
    {
        if (word.Length < 2) return word + "x";
        var i = _faker.Random.Int(0, word.Length - 2);
        return _faker.Random.Int(0, 2) switch
        {
            0 => word.Remove(i, 1),
            1 => word[..i] + word[i + 1] + word[i] + word[(i + 2)..],
            _ => word.Insert(i, _faker.Random.Char('a', 'z').ToString()),
        };
    }

    private static void Replace(Slot slot, YamlNode replacement)
    {
        switch (slot.Parent)
        {
            case YamlMappingNode m when slot.Key is not null:
                m.Children[slot.Key] = replacement;
                break;
            case YamlSequenceNode s:
                var i = s.Children.IndexOf(slot.Node);
                if (i >= 0) s.Children[i] = replacement;
                break;
        }
    }

    private static YamlNode Clone(YamlNode node) => node switch
    {
        YamlScalarNode s => new YamlScalarNode(s.Value) { Style = s.Style },
        YamlSequenceNode q => new YamlSequenceNode(q.Children.Select(Clone)) { Style = q.Style },
        YamlMappingNode m => new YamlMappingNode(m.Children.Select(kv => new KeyValuePair<YamlNode, YamlNode>(Clone(kv.Key), Clone(kv.Value)))) { Style = m.Style },
        _ => node,
    };

    private static string Show(YamlNode node) => node switch
    {
        YamlScalarNode s => $"'{s.Value}'",
        YamlSequenceNode => "a list",
        _ => "a mapping",
    };

    // ---------- the text ----------

    private (string, string) MutateText(string text)
    {
        var lines = text.Split('\n').ToList();
        var i = _faker.Random.Int(0, Math.Max(0, lines.Count - 2));
        switch (_faker.Random.Int(0, 6))
        {
            case 0:
                lines.RemoveAt(i);
                return (string.Join('\n', lines), $"text: line {i + 1} deleted");
            case 1:
                lines.Insert(i, lines[i]);
                return (string.Join('\n', lines), $"text: line {i + 1} duplicated");
            case 2:
            {
                var j = _faker.Random.Int(0, Math.Max(0, lines.Count - 1));
                (lines[i], lines[j]) = (lines[j], lines[i]);
                return (string.Join('\n', lines), $"text: lines {i + 1} and {j + 1} swapped");
            }
            case 3:
            {
                var shift = _faker.Random.Int(-3, 3);
                var lead = lines[i].Length - lines[i].TrimStart(' ').Length;
                lines[i] = shift >= 0 ? new string(' ', shift) + lines[i] : lines[i][Math.Min(-shift, lead)..];
                return (string.Join('\n', lines), $"text: line {i + 1} re-indented by {shift}");
            }
            case 4:
            {
                var cut = _faker.Random.Int(0, text.Length);
                return (text[..cut], $"text: truncated at {cut}");
            }
            case 5:
            {
                var at = _faker.Random.Int(0, text.Length);
                var c = _faker.PickRandom(":", "-", "[", "{", "\"", "'", "&", "*", "!", "|", ">", "#", "%", "@", "`", "\t", "\u00e9", "\uFEFF", "\u2028");
                return (text.Insert(at, c), $"text: '{c}' inserted at {at}");
            }
            default:
            {
                var at = _faker.Random.Int(0, text.Length);
                var junk = _faker.Random.String2(_faker.Random.Int(1, 12));
                return (text.Insert(at, junk), $"text: '{junk}' inserted at {at}");
            }
        }
    }
}
