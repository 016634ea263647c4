using System.Text.Json;
using System.Text.Json.Nodes;

namespace LabRunner.Tests.Unit.Infrastructure;

/// <summary>
/// A model record as JSON without any "Span" (where it was written), at any depth: how two scenarios written in
/// different files or languages are compared (records holding ImmutableArray compare by reference, not content).
/// </summary>
public static class ModelJson
{
    public static string WithoutSpans(object record)
    {
        var node = JsonSerializer.SerializeToNode(record, record.GetType())!;
        Strip(node);
        return record.GetType().Name + node.ToJsonString();
    }

    private static void Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                o.Remove("Span");
                foreach (var (_, child) in o) Strip(child);
                break;
            case JsonArray a:
                foreach (var child in a) Strip(child);
                break;
        }
    }
}
