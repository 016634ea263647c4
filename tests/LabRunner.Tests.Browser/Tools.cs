using LabRunner.Execution;
using LabRunner.Reporting;
using LabRunner.Tests.Shared;

namespace LabRunner.Tests.Browser;

/// <summary>What the browser specs need besides Chromium: Graphviz's dot (provisioned with it), the repository, a scratch directory.</summary>
internal static class Tools
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Graphviz must be there: CI provisions it with Chromium (vagrant/provision.sh --tools), so a missing one fails with the fix.</summary>
    public static void RequireGraphviz()
    {
        if (Graphviz.Find() is null) Assert.Fail($"Graphviz's dot is not on PATH: the report's pictures need it. Fix: {Graphviz.Fix}");
    }

    public static async Task<string> SvgAsync(LabTopology topology, CancellationToken ct)
    {
        RequireGraphviz();
        return await Graphviz.RenderSvgAsync(topology.ToDot(), new CliWrapCommandRunner(), ct: ct);
    }

    /// <summary>The sample run's report, drawn by the real Graphviz, written to a file in <paramref name="directory"/>.</summary>
    public static async Task<string> WriteSampleReportAsync(string directory, CancellationToken ct)
    {
        RequireGraphviz();
        var run = SampleRun.Create();
        var pictures = await HtmlReport.DrawAsync(run, new CliWrapCommandRunner(), ct: ct);
        var path = Path.Combine(directory, "sample.report.html");
        await File.WriteAllTextAsync(path, HtmlReport.Create(run, pictures, "process"), ct);
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LabRunner.sln"))) return dir.FullName;
        throw new InvalidOperationException("LabRunner.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A directory under /tmp for one spec, removed with everything in it.</summary>
internal sealed class Scratch : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("labrunner-browser-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
