using System.Collections.Immutable;
using System.Globalization;
using LabRunner.Model;
using YamlDotNet.RepresentationModel;

namespace LabRunner.Loading;

/// <summary>
/// Reads one YAML mapping field by field, reporting wrong types with their position and, at the end,
/// every key nobody asked for (with the nearest known key as a hint).
/// </summary>
internal sealed class YamlMap
{
    private readonly IReadOnlyList<KeyValuePair<YamlNode, YamlNode>> _pairs;
    private readonly ErrorSink _errors;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public YamlMap(YamlMappingNode node, ErrorSink errors)
        : this([.. node.Children], errors.SpanOf(node), errors)
    {
    }

    private YamlMap(IReadOnlyList<KeyValuePair<YamlNode, YamlNode>> pairs, SourceSpan span, ErrorSink errors)
    {
        _pairs = pairs;
        _errors = errors;
        Span = span;
    }

    /// <summary>The short form 'netns-add: n1' read as if it were 'netns-add: { name: n1 }'.</summary>
    public static YamlMap FromShortForm(string key, YamlScalarNode value, ErrorSink errors) =>
        new([new(new YamlScalarNode(key), value)], errors.SpanOf(value), errors);

    public SourceSpan Span { get; }

    public IEnumerable<string> Keys => _pairs.Select(p => (p.Key as YamlScalarNode)?.Value ?? "");

    /// <summary>Whether the key is present; asking makes it a known key (for "did you mean" on typos).</summary>
    public bool Has(string key)
    {
        _known.Add(key);
        return Find(key) is not null;
    }

    public YamlNode? Node(string key)
    {
        _known.Add(key);
        return Find(key)?.Value;
    }

    public SourceSpan SpanOf(string key) =>
        Find(key) is { } pair ? _errors.SpanOf(pair.Value) : Span;

    public string? String(string key, bool required = false)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required) _errors.Add(Span, $"'{key}' is missing", $"add '{key}: ...' here");
            return null;
        }
        return _errors.Scalar(node, key);
    }

    public bool? Bool(string key)
    {
        var text = String(key);
        if (text is null) return null;
        switch (text)
        {
            case "true" or "yes": return true;
            case "false" or "no": return false;
            default:
                _errors.Add(SpanOf(key), $"'{key}' must be true or false, not '{text}'");
                return null;
        }
    }

    public int? Int(string key, int min, int max)
    {
        var text = String(key);
        if (text is null) return null;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            return value;
        _errors.Add(SpanOf(key), $"'{key}' must be a whole number from {min} to {max}, not '{text}'");
        return null;
    }

    public TimeSpan? Duration(string key)
    {
        var text = String(key);
        if (text is null) return null;
        if (Durations.TryParse(text, out var value)) return value;
        _errors.Add(SpanOf(key), $"'{key}' must be a duration such as 500ms, 5s or 1m, not '{text}'");
        return null;
    }

    public ImmutableArray<string>? StringList(string key)
    {
        var node = Node(key);
        if (node is null) return null;
        if (node is not YamlSequenceNode seq)
        {
            _errors.Add(_errors.SpanOf(node), $"'{key}' must be a list, e.g. [a, b]");
            return null;
        }
        var items = ImmutableArray.CreateBuilder<string>();
        foreach (var item in seq.Children)
        {
            var value = _errors.Scalar(item, key);
            if (value is not null) items.Add(value);
        }
        return items.ToImmutable();
    }

    /// <summary>Reports every key that was never read: a typo must not be silently ignored.</summary>
    public void RejectUnknownKeys(string where)
    {
        foreach (var (keyNode, _) in _pairs)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (_known.Contains(key)) continue;
            var nearest = Suggest.Nearest(key, _known);
            _errors.Add(_errors.SpanOf(keyNode), $"unknown key '{key}' in {where}",
                nearest is null ? $"allowed here: {string.Join(", ", _known.Order())}" : $"did you mean '{nearest}'?");
        }
    }

    private KeyValuePair<YamlNode, YamlNode>? Find(string key)
    {
        foreach (var pair in _pairs)
            if (pair.Key is YamlScalarNode { Value: var k } && k == key)
                return pair;
        return null;
    }
}

/// <summary>Collects errors with positions in one file.</summary>
internal sealed class ErrorSink(string file)
{
    private readonly List<ScenarioError> _errors = [];

    public string File { get; } = file;

    public IReadOnlyList<ScenarioError> Errors => _errors;

    public void Add(SourceSpan span, string message, string? hint = null) => _errors.Add(new(span, message, hint));

    public SourceSpan SpanOf(YamlNode node) => new(File, (int)node.Start.Line, (int)node.Start.Column);

    public string? Scalar(YamlNode node, string what)
    {
        if (node is YamlScalarNode scalar) return scalar.Value ?? "";
        Add(SpanOf(node), $"'{what}' must be a single value, not a {(node is YamlSequenceNode ? "list" : "mapping")}");
        return null;
    }

    public YamlMap? Map(YamlNode node, string what)
    {
        if (node is YamlMappingNode mapping) return new YamlMap(mapping, this);
        Add(SpanOf(node), $"{what} must be a mapping of 'key: value' lines");
        return null;
    }
}

internal static class Durations
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        (string unit, double factor)[] units = [("ms", 1), ("s", 1000), ("m", 60_000)];
        foreach (var (unit, factor) in units)
        {
            if (!text.EndsWith(unit, StringComparison.Ordinal)) continue;
            var number = text[..^unit.Length];
            if (unit == "s" && number.EndsWith('m')) continue;
            // Plain decimals only: no sign, spaces, exponent, NaN or Infinity (NaN would crash TimeSpan).
            if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || !(n >= 0 && n <= 3600_000 / factor))
                return false;
            value = TimeSpan.FromMilliseconds(n * factor);
            return true;
        }
        return false;
    }
}

internal static class Suggest
{
    /// <summary>The candidate within edit distance 2 (or sharing a long prefix), for "did you mean".</summary>
    public static string? Nearest(string word, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            var d = Distance(word, c);
            if (d < bestDistance) (best, bestDistance) = (c, d);
        }
        return bestDistance <= Math.Max(2, word.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var up = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = up;
            }
        }
        return row[b.Length];
    }
}
