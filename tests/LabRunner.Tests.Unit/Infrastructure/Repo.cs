namespace LabRunner.Tests.Unit.Infrastructure;

/// <summary>Paths in the source tree, found from the test assembly's location (bin/Release/net10.0 under the repo).</summary>
public static class Repo
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    /// <summary>The directory that holds LabRunner.sln.</summary>
    public static string Root => LazyRoot.Value;

    public static string ArticleScenarios => Path.Combine(Root, "scenarios", "article");

    public static string Article(string fileName) => Path.Combine(ArticleScenarios, fileName);

    /// <summary>File names of every scenario in scenarios/article, sorted, for [Theory] data.</summary>
    public static TheoryData<string> ArticleScenarioNames()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(ArticleScenarios, "*.yaml").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LabRunner.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"LabRunner.sln not found in {AppContext.BaseDirectory} or any directory above it");
    }
}
