namespace LabRunner.Tests.Integration;

/// <summary>
/// Lab files the specs write (wrong, bad or small labs): one directory per test process, removed when the process
/// ends, so test runs leave nothing in /tmp either.
/// </summary>
public static class TestFiles
{
    private static readonly Lazy<string> LazyDirectory = new(() =>
    {
        var directory = Directory.CreateTempSubdirectory($"labrunner-tests-{Environment.ProcessId}-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(directory, recursive: true); }
            catch (IOException) { } // best effort at exit; it is under /tmp
        };
        return directory;
    });

    /// <summary>Writes <paramref name="text"/> to a new file with the given extension (".yaml", ".csx") and returns its path.</summary>
    public static string Write(string text, string extension = ".yaml")
    {
        var path = Path.Combine(LazyDirectory.Value, $"lab-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(path, text);
        return path;
    }
}
