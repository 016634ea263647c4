using System.Text.Json;

namespace LabRunner.Execution;

/// <summary>Reading iproute2's JSON output (`ip -j ...`), where a field may be missing or of another type.</summary>
internal static class IpJson
{
    /// <summary>The string value of <paramref name="property"/>, or null when it is absent or not a string.</summary>
    public static string? Str(JsonElement e, string property) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
