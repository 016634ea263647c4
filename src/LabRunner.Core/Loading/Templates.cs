using System.Text.RegularExpressions;

namespace LabRunner.Loading;

/// <summary>
/// ${container.pid} and ${uplink.ip}: values only known at run time (PIDs, the uplink address with --host),
/// written symbolically in a scenario and substituted by the engine.
/// </summary>
public static partial class Templates
{
    public const string UplinkIp = "uplink.ip";

    public static IEnumerable<string> References(string text) =>
        Pattern().Matches(text).Select(m => m.Groups[1].Value);

    public static string Expand(string text, Func<string, string> resolve) =>
        Pattern().Replace(text, m => resolve(m.Groups[1].Value));

    /// <summary>Null when every ${...} in <paramref name="text"/> names something known, else why not.</summary>
    public static string? Check(string text, IReadOnlySet<string> containers)
    {
        foreach (var reference in References(text))
        {
            if (reference == UplinkIp) continue;
            if (reference.EndsWith(".pid", StringComparison.Ordinal) && containers.Contains(reference[..^4])) continue;
            return $"unknown placeholder '${{{reference}}}'; known: ${{uplink.ip}}" +
                   string.Concat(containers.Order().Select(c => $", ${{{c}.pid}}"));
        }
        return null;
    }

    [GeneratedRegex(@"\$\{([A-Za-z0-9_.-]+)\}")]
    private static partial Regex Pattern();
}
