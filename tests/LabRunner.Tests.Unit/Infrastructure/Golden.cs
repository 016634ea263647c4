namespace LabRunner.Tests.Unit.Infrastructure;

/// <summary>
/// Golden files (Verify is not available here): compares a test's output with a file committed under
/// tests/LabRunner.Tests.Unit/Golden.
/// <list type="bullet">
/// <item>Same: passes, and removes a stale NAME.received.txt.</item>
/// <item>Missing or different: writes the output beside it as NAME.received.txt and fails, saying where the
/// first difference is. Nothing is ever created or changed silently.</item>
/// <item>LABRUNNER_ACCEPT_GOLDEN=1: writes the output as the golden file (review the diff, then commit it).</item>
/// <item>CI set: never creates or accepts a golden file, whatever LABRUNNER_ACCEPT_GOLDEN says; a missing one fails.</item>
/// </list>
/// Line endings are compared as LF, so a checkout with CRLF does not fail.
/// </summary>
public static class Golden
{
    public const string AcceptVariable = "LABRUNNER_ACCEPT_GOLDEN";

    public static string Directory => Path.Combine(Repo.Root, "tests", "LabRunner.Tests.Unit", "Golden");

    /// <summary>Checks <paramref name="actual"/> against Golden/<paramref name="fileName"/> (e.g. "article.plan.txt").</summary>
    public static void Verify(string fileName, string actual) =>
        Verify(Directory, fileName, actual, Environment.GetEnvironmentVariable);

    /// <summary>The same, with the directory and the environment given (for the helper's own tests).</summary>
    public static void Verify(string directory, string fileName, string actual, Func<string, string?> environment)
    {
        var golden = Path.Combine(directory, fileName);
        var received = ReceivedPath(golden);
        actual = Normalize(actual);
        var inCi = !string.IsNullOrEmpty(environment("CI"));
        var accept = environment(AcceptVariable) == "1" && !inCi;

        if (accept)
        {
            System.IO.Directory.CreateDirectory(directory);
            File.WriteAllText(golden, actual);
            File.Delete(received);
            return;
        }

        if (!File.Exists(golden))
        {
            File.WriteAllText(received, actual);
            Assert.Fail(inCi
                ? $"golden file {golden} is missing, and CI never creates one: generate it locally ({AcceptVariable}=1), review it and commit it. This run's output is in {received}"
                : $"golden file {golden} is missing. This run's output is in {received}: review it, then rename it to {Path.GetFileName(golden)} or rerun with {AcceptVariable}=1");
        }

        var expected = Normalize(File.ReadAllText(golden));
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        Assert.Fail($"{golden} differs from this run's output ({received}), first at {FirstDifference(expected, actual)}. " +
                    $"If the change is intended, rerun with {AcceptVariable}=1 and commit the golden file.");
    }

    public static string ReceivedPath(string golden) =>
        Path.Combine(Path.GetDirectoryName(golden)!, Path.GetFileNameWithoutExtension(golden) + ".received" + Path.GetExtension(golden));

    private static string Normalize(string text)
    {
        text = text.ReplaceLineEndings("\n");
        return text.EndsWith('\n') ? text : text + "\n";
    }

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (var i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            var el = i < e.Length ? e[i] : "<end of file>";
            var al = i < a.Length ? a[i] : "<end of file>";
            if (el != al) return $"line {i + 1}:\n  golden:   {el}\n  received: {al}\n";
        }
        return "<no line differs>";
    }
}
