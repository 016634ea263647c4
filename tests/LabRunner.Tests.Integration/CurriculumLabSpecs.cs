using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The curriculum's labs (scenarios/curriculum/), each run whole in its sandbox: every step holds (the expected
/// failures included), and the machine is as before.
/// </summary>
public sealed class CurriculumLabSpecs
{
    public static TheoryData<string> Labs() =>
        [.. Directory.EnumerateFiles(Path.Combine(LabCli.RepoRoot, "scenarios", "curriculum"), "*.yaml").Select(f => Path.GetFileName(f)!).Order()];

    [Theory]
    [MemberData(nameof(Labs))]
    public async Task A_curriculum_lab_passes_and_leaves_nothing(string lab)
    {
        Root.Require();
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", Path.Combine(LabCli.RepoRoot, "scenarios", "curriculum", lab)], ct: TestContext.Current.CancellationToken);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }
}
