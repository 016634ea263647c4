using System.Text.RegularExpressions;
using LabRunner.Engine;
using LabRunner.Execution;

namespace LabRunner.Reporting;

/// <summary>
/// Graphviz's <c>dot</c> (Debian's graphviz package) turns a <see cref="LabTopology.ToDot"/> text into SVG. LabRunner
/// writes the DOT itself and leaves the layout to Graphviz: a layout engine of our own would be the larger program.
/// dot runs like every other child, through an <see cref="ICommandRunner"/> (a check: shown with --verbose, with the
/// runner's time limit), reading the DOT from a temporary file that is always removed.
/// </summary>
public static class Graphviz
{
    public const string Tool = "dot";

    public const string Package = "graphviz";

    public const string Fix = "apt-get install -y graphviz (or bash vagrant/provision.sh --tools)";

    /// <summary>dot's path, or null when it is not on <paramref name="searchPath"/> (default: $PATH).</summary>
    public static string? Find(string? searchPath = null) => EnvironmentCheck.FindOnPath(Tool, searchPath);

    /// <summary>
    /// The SVG document dot makes of <paramref name="dot"/>. Throws <see cref="EnvironmentProblemException"/> (exit 3,
    /// with the fix) when dot is not installed, and <see cref="InvalidOperationException"/> when it refuses the text.
    /// </summary>
    /// <param name="searchPath">Where to look for dot (default: $PATH); tests point it elsewhere.</param>
    public static async Task<string> RenderSvgAsync(string dot, ICommandRunner runner, string? searchPath = null, CancellationToken ct = default)
    {
        var tool = Find(searchPath) ?? throw new EnvironmentProblemException(
            "Graphviz is not installed: drawing a picture (SVG) needs its dot command", Fix);
        var file = Path.Combine(Path.GetTempPath(), $"labrunner-{Environment.ProcessId}-{Guid.NewGuid():N}.dot");
        try
        {
            await File.WriteAllTextAsync(file, dot, ct);
            var outcome = await runner.RunAsync([tool, "-Tsvg", file], CommandPurpose.Check, ct);
            return outcome switch
            {
                { ExitCode: 127 } => throw new EnvironmentProblemException($"Graphviz's dot could not be run: {outcome.Error}", Fix),
                { Succeeded: false } => throw new InvalidOperationException($"dot refused the drawing: {outcome.Error}"),
                _ => outcome.Stdout,
            };
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// An SVG document as an element to put inside an HTML page: from its &lt;svg&gt; on, without the XML declaration,
    /// the DOCTYPE (whose DTD address a browser never fetches, but a page that names no address is easier to trust),
    /// the comments and the namespace declarations (HTML gives an inline &lt;svg&gt; its namespace itself).
    /// </summary>
    public static string Inline(string svg)
    {
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException("not an SVG document");
        var element = svg[start..];
        element = Regex.Replace(element, "<!--.*?-->\\n?", "", RegexOptions.Singleline);
        element = Regex.Replace(element, "\\s+xmlns(:[a-z]+)?=\"[^\"]*\"", "");
        return element.Trim();
    }
}
