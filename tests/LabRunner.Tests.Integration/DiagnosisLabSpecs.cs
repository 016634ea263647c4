using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The diagnosis classes shown by labs (scenarios/diagnosis/): each lab shows a failure on purpose and names the class
/// that must explain it (<c>why:</c>), so it passes only if the diagnosis finds that class on the real kernel; its
/// why-lines are printed under the expectation. The machine is as before.
/// </summary>
public sealed class DiagnosisLabSpecs
{
    public static TheoryData<string> Labs() =>
        [.. Directory.EnumerateFiles(Path.Combine(LabCli.RepoRoot, "scenarios", "diagnosis"), "*.yaml").Select(f => Path.GetFileName(f)!).Order()];

    [Theory]
    [MemberData(nameof(Labs))]
    public async Task A_diagnosis_lab_passes_with_its_class_found_and_leaves_nothing(string lab)
    {
        Root.Require();
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", Path.Combine(LabCli.RepoRoot, "scenarios", "diagnosis", lab)], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("why: ", run.Stdout, StringComparison.Ordinal);
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }
}
