using System.Collections.Immutable;

namespace LabRunner.Model;

/// <summary>
/// Value equality for the model's lists: a record's own Equals compares an ImmutableArray by reference, so two loads
/// of one lab would differ. The records that hold lists use these in their Equals and GetHashCode.
/// </summary>
internal static class Sequences
{
    public static bool Equal<T>(ImmutableArray<T> a, ImmutableArray<T> b) =>
        a.IsDefault || b.IsDefault ? a.IsDefault == b.IsDefault : a.AsSpan().SequenceEqual(b.AsSpan(), EqualityComparer<T>.Default);

    public static bool Equal<T>(ImmutableArray<T>? a, ImmutableArray<T>? b) =>
        a is { } x ? b is { } y && Equal(x, y) : b is null;

    public static int Hash<T>(ImmutableArray<T> items)
    {
        var hash = new HashCode();
        if (!items.IsDefault)
            foreach (var item in items) hash.Add(item);
        return hash.ToHashCode();
    }

    public static int Hash<T>(ImmutableArray<T>? items) => items is { } x ? Hash(x) : 0;
}
