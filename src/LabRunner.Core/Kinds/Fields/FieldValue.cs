using System.Collections.Immutable;
using System.Globalization;
using LabRunner.Model;
using YamlDotNet.RepresentationModel;

namespace LabRunner.Kinds;

/// <summary>
/// A value as a lab wrote it, before any rule is applied: a scalar, a list or a mapping, with where it was written.
/// YAML files and C# builder calls are both turned into these, so one <see cref="FieldReader"/> applies one set of
/// rules and messages to both.
/// </summary>
public abstract record FieldValue(SourceSpan Span)
{
    /// <summary>A YAML node as a value; keys that are not scalars read as "" (and are then refused as unknown).</summary>
    internal static FieldValue FromYaml(YamlNode node, string file)
    {
        var span = new SourceSpan(file, (int)node.Start.Line, (int)node.Start.Column);
        return node switch
        {
            YamlScalarNode s => new ScalarValue(s.Value ?? "", span) { Quoted = s.Style is not YamlDotNet.Core.ScalarStyle.Plain },
            YamlSequenceNode seq => new ListValue([.. seq.Children.Select(c => FromYaml(c, file))], span),
            YamlMappingNode map => new MapValue(
                [.. map.Children.Select(p => new MapEntry((p.Key as YamlScalarNode)?.Value ?? "",
                    new SourceSpan(file, (int)p.Key.Start.Line, (int)p.Key.Start.Column), FromYaml(p.Value, file)))], span),
            _ => new ScalarValue("", span),
        };
    }

    /// <summary>
    /// A C# argument as a value, every part placed at the builder call: strings and numbers as scalars (numbers in
    /// invariant culture, booleans as true/false, durations in milliseconds), sequences as lists, values already
    /// made as they are. Null means "not given".
    /// </summary>
    public static FieldValue? From(object? value, SourceSpan span) => value switch
    {
        null => null,
        FieldValue v => v,
        string s => new ScalarValue(s, span),
        bool b => new ScalarValue(b ? "true" : "false", span),
        int i => new ScalarValue(i.ToString(CultureInfo.InvariantCulture), span),
        TimeSpan t => new ScalarValue(t.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms", span),
        IEnumerable<string?> list => new ListValue([.. list.Select(item => item is null ? (FieldValue)new NullValue(span) : new ScalarValue(item, span))], span),
        _ => throw new ArgumentException($"a field value cannot be a {value.GetType().Name}"),
    };

    /// <summary>A mapping from C# named arguments; the null ones are left out (not given).</summary>
    public static MapValue Map(SourceSpan span, params (string Key, object? Value)[] fields) =>
        new([.. fields.Select(f => (f.Key, Value: From(f.Value, span))).Where(f => f.Value is not null).Select(f => new MapEntry(f.Key, span, f.Value!))], span);
}

public sealed record ScalarValue(string Text, SourceSpan Span) : FieldValue(Span)
{
    /// <summary>Written quoted (or as a block) in YAML: a string even when it reads as a number or a boolean (<see cref="FieldType.Json"/>).</summary>
    public bool Quoted { get; init; }
}

/// <summary>A null inside a C# list (YAML has no such thing): refused where it is read.</summary>
public sealed record NullValue(SourceSpan Span) : FieldValue(Span);

public sealed record ListValue(ImmutableArray<FieldValue> Items, SourceSpan Span) : FieldValue(Span);

public sealed record MapValue(ImmutableArray<MapEntry> Entries, SourceSpan Span) : FieldValue(Span)
{
    public MapValue With(string key, SourceSpan span, FieldValue? value) =>
        value is null ? this : this with { Entries = [.. Entries.Where(e => e.Key != key), new MapEntry(key, span, value)] };
}

public sealed record MapEntry(string Key, SourceSpan KeySpan, FieldValue Value);
