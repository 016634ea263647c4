using LabRunner.Engine;
using LabRunner.Loading;
using LabRunner.Testing;

namespace LabRunner.Tests.Integration;

/// <summary>
/// The curriculum's labs (scenarios/curriculum/), each run whole in its sandbox on every runtime (process,
/// containerd, Docker): every step holds (the expected failures included, with their why:), and the machine is as before. A lab
/// needing a kernel feature this kernel lacks (vlan.yaml without 802.1Q) must stop before building anything: exit 3,
/// naming the module, and nothing touched.
/// </summary>
public sealed class CurriculumLabSpecs
{
    private static string Folder => Path.Combine(LabCli.RepoRoot, "scenarios", "curriculum");

    public static TheoryData<string, string> Labs() =>
    [
        .. Directory.EnumerateFiles(Folder, "*.yaml").Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal)
            .SelectMany(lab => Runtimes.ContainerRuntimes.Names.Select(runtime => new TheoryDataRow<string, string>(lab, runtime))),
    ];

    [Theory]
    [MemberData(nameof(Labs))]
    public async Task A_curriculum_lab_passes_and_leaves_nothing(string lab, string runtime)
    {
        Root.Require(runtime);
        var path = Path.Combine(Folder, lab);
        var missing = ScenarioLoader.LoadFile(path).AllActions.SelectMany(a => a.KernelFeatures).Distinct()
            .Where(f => EnvironmentCheck.ProbeKernel(f) is not null).ToList();
        var before = HostSnapshot.Take();

        var run = await LabCli.RunAsync(["run", path, "--runtime", runtime], ct: TestContext.Current.CancellationToken);

        if (missing.Count == 0) Assert.True(run.ExitCode == 0, run.ToString());
        else
        {
            Assert.True(run.ExitCode == 3, run.ToString());
            foreach (var feature in missing) Assert.Contains($"modprobe {feature.Module}", run.Stderr);
        }
        Assert.Empty(before.Diff(HostSnapshot.Take()));
    }

    [Fact]
    public void The_kernel_probe_tells_a_link_type_this_kernel_has_from_one_no_kernel_has()
    {
        Root.Require();

        Assert.Null(EnvironmentCheck.ProbeKernel(new Model.KernelFeature("macvlan links", "CONFIG_MACVLAN", "macvlan",
            "ip link add link probe0 name probe2 type macvlan mode bridge")));
        Assert.Contains("Unknown device type", EnvironmentCheck.ProbeKernel(new Model.KernelFeature("no such links", "CONFIG_NONE", "none",
            "ip link add link probe0 name probe2 type lr-no-such-kind")));
    }
}
